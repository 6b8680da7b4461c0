//! End-to-end tests: the built `valence` binary, simulated PODMs, SQLite or PostgreSQL, over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chaos;
mod cli;
mod crash;
mod faults;
mod harness;
mod instances;
mod security;
mod server;
