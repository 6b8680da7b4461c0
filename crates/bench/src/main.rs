//! `valence-bench`: runs the benchmark scenarios of docs/BENCHMARKS.md and prints their
//! figures as Markdown. `valence-bench sim` is the PODM simulator it starts as a child process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use valence_bench::report::{Table, load_1m, load_average, machine};
use valence_bench::scenario::{compose, db, fanout, reads, scale};
use valence_bench::{Bench, BenchError, SimLauncher};

// The simulator this binary hosts allocates a JSON body per answer; mimalloc keeps it from
// being the bottleneck of the measurements (measured by its author at ~39 KiB per PODM).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "valence-bench",
    version,
    about = "Valence benchmarks against simulated PODMs on loopback"
)]
struct Cli {
    /// The `valence` binary to measure [default: built now with cargo, release]
    #[arg(long, env = "VALENCE_BIN", global = true)]
    valence: Option<PathBuf>,
    /// Wait (up to --quiet-wait seconds) until the 1-minute load average is below this before
    /// each scenario, so that other work on the machine does not distort the figures.
    #[arg(long, default_value_t = 1.5, global = true)]
    quiet_load: f64,
    #[arg(long, default_value_t = 0, global = true)]
    quiet_wait: u64,
    /// Start the simulated PODMs as `valence sim` instead of `valence-bench sim`.
    #[arg(long, global = true)]
    sim_in_valence: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// 1. Fan-out: cold aggregated `GET /v1/systems?refresh=true` over 1..1000 PODMs.
    Fanout(fanout::FanoutOptions),
    /// 2. Cached reads under load: `GET /v1/pod_managers`, `GET /v1/systems?limit=100`.
    Reads(reads::ReadsOptions),
    /// 3. Compose overhead on SQLite and PostgreSQL, and a burst of concurrent composes.
    Compose(compose::ComposeOptions),
    /// 4. Scale: 1,000 PODMs x 100 systems: aggregate time, peak RSS, idle CPU.
    Scale(scale::ScaleOptions),
    /// 5. Database queries with 10,000 PODMs and 100,000 nodes.
    Db(db::DbOptions),
    /// Every scenario with its defaults.
    All,
    /// The PODM simulator (what the scenarios start as a child process).
    #[command(hide = true)]
    Sim(valence_podm_sim::SimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("valence-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("valence-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), BenchError> {
    if let Scenario::Sim(args) = cli.scenario {
        return valence_podm_sim::run_cli(args)
            .await
            .map_err(|e| BenchError::Check(format!("simulator: {e}")));
    }
    let valence = match &cli.valence {
        Some(path) => path.clone(),
        None => tokio::task::spawn_blocking(valence_bench::process::valence_binary)
            .await
            .map_err(|e| BenchError::Build(e.to_string()))??,
    };
    let bench = if cli.sim_in_valence {
        Bench::with_valence_sim(valence)
    } else {
        let program = std::env::current_exe().map_err(BenchError::io("locating valence-bench"))?;
        Bench::new(
            valence,
            SimLauncher {
                program,
                prefix: vec!["sim".into()],
            },
        )
    };
    let command: Vec<String> = std::env::args().collect();
    let scenarios: Vec<Scenario> = match cli.scenario {
        Scenario::All => vec![
            Scenario::Fanout(parse_defaults::<fanout::FanoutOptions>()?),
            Scenario::Reads(parse_defaults::<reads::ReadsOptions>()?),
            Scenario::Compose(parse_defaults::<compose::ComposeOptions>()?),
            Scenario::Scale(parse_defaults::<scale::ScaleOptions>()?),
            Scenario::Db(parse_defaults::<db::DbOptions>()?),
        ],
        other => vec![other],
    };
    for scenario in scenarios {
        wait_for_quiet(cli.quiet_load, Duration::from_secs(cli.quiet_wait)).await;
        let load_before = load_average();
        let started = Instant::now();
        let table = run_one(&bench, &scenario).await?;
        println!("\n`{}`\n", command.join(" "));
        println!(
            "Machine: {}; load average before: {load_before}, after: {}; took {:.0} s\n",
            machine(),
            load_average(),
            started.elapsed().as_secs_f64()
        );
        println!("{}", table.markdown());
    }
    Ok(())
}

async fn run_one(bench: &Bench, scenario: &Scenario) -> Result<Table, BenchError> {
    Ok(match scenario {
        Scenario::Fanout(o) => fanout::table(o, &fanout::measure(bench, o).await?),
        Scenario::Reads(o) => reads::table(o, &reads::measure(bench, o).await?),
        Scenario::Compose(o) => compose::table(o, &compose::measure(bench, o).await?),
        Scenario::Scale(o) => scale::table(o, &scale::measure(bench, o).await?),
        Scenario::Db(o) => db::table(o, &db::measure(o).await?),
        Scenario::All | Scenario::Sim(_) => {
            return Err(BenchError::Argument {
                name: "scenario",
                detail: "not a single scenario".into(),
            });
        }
    })
}

/// A scenario's options with every default.
fn parse_defaults<T: clap::Args>() -> Result<T, BenchError> {
    let command = T::augment_args(clap::Command::new("defaults"));
    let matches = command
        .try_get_matches_from(["defaults"])
        .map_err(|e| BenchError::Argument {
            name: "defaults",
            detail: e.to_string(),
        })?;
    T::from_arg_matches(&matches).map_err(|e| BenchError::Argument {
        name: "defaults",
        detail: e.to_string(),
    })
}

/// Waits until the 1-minute load average is below `threshold`, at most `within`.
async fn wait_for_quiet(threshold: f64, within: Duration) {
    let started = Instant::now();
    let mut told = false;
    while load_1m() >= threshold && started.elapsed() < within {
        if !told {
            eprintln!(
                "load average {} is not below {threshold}; waiting up to {} s",
                load_average(),
                within.as_secs()
            );
            told = true;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if load_1m() >= threshold {
        eprintln!(
            "warning: measuring with load average {} (not below {threshold})",
            load_average()
        );
    }
}
