//! End-to-end tests: the built `valence` binary, simulated PODMs, SQLite or PostgreSQL, over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chaos;
mod cli;
mod concurrency;
mod crash;
mod devices;
mod errors;
mod faults;
mod harness;
mod instances;
mod nodes;
mod openapi;
mod ops;
mod podm_faults;
mod podms;
mod security;
mod server;
mod systems;
