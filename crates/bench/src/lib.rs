//! Valence's benchmark suite: fan-out, cached reads, compose overhead, scale and database
//! figures, measured against simulated PODMs in a separate process on loopback.
//!
//! Each scenario starts what it needs as child processes (the `valence` server, the PODM
//! simulator), drives the server over HTTP, reads the server's CPU time and memory from
//! `/proc`, and returns its figures as a Markdown [`report::Table`]. The `valence-bench` binary
//! runs them (`cargo run --release -p valence-bench -- <scenario>`); docs/BENCHMARKS.md holds
//! the figures and the commands.

pub mod dbbench;
pub mod error;
pub mod http;
pub mod load;
pub mod process;
pub mod procfs;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod stats;

use std::path::PathBuf;
use std::time::Duration;

pub use error::BenchError;
pub use process::{SimLauncher, SimOptions};

/// What every scenario needs: the server binary, how to start simulators, an HTTP client.
#[derive(Debug, Clone)]
pub struct Bench {
    pub valence: PathBuf,
    pub sim: SimLauncher,
    pub http: http::Http,
}

impl Bench {
    pub fn new(valence: PathBuf, sim: SimLauncher) -> Self {
        Self {
            valence,
            sim,
            http: http::Http::new(64, Duration::from_secs(600)),
        }
    }

    /// Simulators started as `valence sim` (the server binary also hosts the simulator).
    pub fn with_valence_sim(valence: PathBuf) -> Self {
        let sim = SimLauncher {
            program: valence.clone(),
            prefix: vec!["sim".into()],
        };
        Self::new(valence, sim)
    }
}
