//! Scheduler: picks the PODM for a compose request from a snapshot, with no I/O and no clock, and explains every rejection.
