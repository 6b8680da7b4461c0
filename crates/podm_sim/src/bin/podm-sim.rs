//! `podm-sim`: starts simulated RSD pod managers and serves them until Ctrl-C.

use clap::Parser;
use valence_podm_sim::{SimArgs, run_cli};

/// Simulated Intel RSD pod managers for Valence tests, benchmarks and demos.
#[derive(Debug, Parser)]
#[command(name = "podm-sim", version)]
struct Cli {
    #[command(flatten)]
    sim: SimArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run_cli(cli.sim).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podm-sim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
