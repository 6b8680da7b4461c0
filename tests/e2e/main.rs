//! End-to-end tests: the built `valence` binary, simulated PODMs, SQLite or PostgreSQL, over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod crash;
mod harness;
mod ops;
mod security;
mod server;
