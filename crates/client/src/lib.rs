//! Typed client of the Valence REST API, shared by the CLI and other Rust programs.

pub mod types;
