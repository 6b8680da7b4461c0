//! End-to-end tests: the built `valence` binary, simulated PODMs, SQLite or PostgreSQL, over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod concurrency;
mod errors;
mod faults;
mod nodes;
mod openapi;
mod podms;
mod server;
mod systems;
