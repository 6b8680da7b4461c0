//! Aggregator across all registered PODMs: concurrent fan-out, inventory cache, usage figures and health checks.
