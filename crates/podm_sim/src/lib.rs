//! A Redfish RSD 2.x pod-manager simulator: inventory from a seed, composition, sessions, TLS and fault injection.
