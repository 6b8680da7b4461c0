//! Tests of the web console: HTML over plain HTTP, and end-to-end flows in headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod harness;
mod pages;
