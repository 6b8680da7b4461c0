//! Integration tests of the PODM HTTP client against real HTTP servers on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod decode;
mod harness;
mod limits;
mod paging;
mod retries;
mod secrets;
mod timeouts;
mod tls;
