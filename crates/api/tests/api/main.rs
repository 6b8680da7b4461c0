//! API service tests: the router in-process over a real SQLite file, simulated PODMs over real
//! HTTP on loopback. The built binary is covered by `tests/e2e`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compose;
mod harness;
mod metrics;
mod podms;
mod systems;
