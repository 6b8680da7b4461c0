//! HTTP client for Redfish pod managers: TLS policy, Basic and session auth, timeouts, bounded retries, typed Redfish errors.
