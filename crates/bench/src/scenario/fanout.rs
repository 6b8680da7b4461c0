//! Scenario 1, fan-out: N PODMs x S systems, each answering after a fixed latency; the time of a
//! cold aggregated `GET /v1/systems?refresh=true` (every PODM read again, the inventory cache
//! bypassed) and the server's CPU time per system read.

use std::time::Duration;

use crate::process::{Server, ServerOptions, SimFleet};
use crate::report::{Table, fixed};
use crate::setup::{Backend, BenchDb, register_podms, wait_until_read};
use crate::stats::{median, ms};
use crate::{Bench, BenchError, SimOptions, procfs};

#[derive(Debug, Clone, clap::Args)]
pub struct FanoutOptions {
    /// Fleet sizes to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 10, 100, 1000])]
    pub pods: Vec<usize>,
    /// Systems per PODM.
    #[arg(long, default_value_t = 50)]
    pub systems: usize,
    /// Milliseconds every simulated PODM waits before each answer.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Aggregated reads measured per fleet size.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

/// Figures of one fleet size.
#[derive(Debug, Clone)]
pub struct FanoutPoint {
    pub pods: usize,
    /// Systems each aggregated read returned.
    pub systems: usize,
    /// From server start until the start-up refresh had read every PODM (all caches empty).
    pub startup_read: Duration,
    pub times: Vec<Duration>,
    /// Server CPU time over all measured reads.
    pub cpu: Duration,
    pub peak_rss: u64,
}

impl FanoutPoint {
    pub fn median(&self) -> Duration {
        median(&self.times).unwrap_or_default()
    }

    /// Server CPU per system read, in microseconds.
    pub fn cpu_per_system_us(&self) -> f64 {
        let systems = (self.systems * self.times.len()).max(1) as f64;
        self.cpu.as_secs_f64() * 1e6 / systems
    }
}

/// Measures every fleet size of `options`.
pub async fn measure(
    bench: &Bench,
    options: &FanoutOptions,
) -> Result<Vec<FanoutPoint>, BenchError> {
    let mut points = Vec::new();
    for &pods in &options.pods {
        eprintln!("fan-out: {pods} PODMs x {} systems", options.systems);
        points.push(measure_one(bench, options, pods).await?);
    }
    Ok(points)
}

async fn measure_one(
    bench: &Bench,
    options: &FanoutOptions,
    pods: usize,
) -> Result<FanoutPoint, BenchError> {
    let sim = SimOptions::new(pods, options.systems).latency(options.latency_ms);
    let fleet = SimFleet::start(&bench.sim, &sim).await?;
    let dir = tempfile::tempdir().map_err(BenchError::io("creating a temporary directory"))?;
    let db = BenchDb::create(Backend::Sqlite, dir.path(), "")?;
    register_podms(&db.open(2)?, &fleet.urls).await?;
    let server = Server::start(
        &bench.valence,
        &ServerOptions::quiet(db.url.clone()),
        dir.path(),
    )
    .await?;
    let startup_read =
        wait_until_read(&bench.http, &server.base, pods, Duration::from_secs(1800)).await?;
    let expected = pods * options.systems;
    let mut times = Vec::with_capacity(options.runs);
    let cpu_before = procfs::cpu_time(server.pid())?;
    for run in 0..options.runs {
        let (took, count, failed) = super::aggregate(&bench.http, &server.base).await?;
        if let Some(failed) = failed {
            return Err(BenchError::Check(format!(
                "run {run}: PODMs failed: {failed}"
            )));
        }
        if count != expected {
            return Err(BenchError::Check(format!(
                "run {run}: {count} systems, expected {expected}"
            )));
        }
        times.push(took);
    }
    let cpu = procfs::cpu_time(server.pid())?.saturating_sub(cpu_before);
    let peak_rss = procfs::peak_rss(server.pid())?;
    server.process.stop().await;
    fleet.process.stop().await;
    Ok(FanoutPoint {
        pods,
        systems: expected,
        startup_read,
        times,
        cpu,
        peak_rss,
    })
}

/// The table of docs/BENCHMARKS.md, with the targets checked against the smallest fleet.
pub fn table(options: &FanoutOptions, points: &[FanoutPoint]) -> Table {
    let mut table = Table::new(
        format!(
            "Fan-out: cold `GET /v1/systems?refresh=true`, {} systems per PODM, {} ms per PODM answer",
            options.systems, options.latency_ms
        ),
        &[
            "PODMs",
            "systems",
            "median ms",
            "min-max ms",
            "x N=1",
            "server CPU us/system",
            "start-up read s",
            "peak RSS MiB",
        ],
    );
    let base = points.iter().find(|p| p.pods == 1).map(FanoutPoint::median);
    for p in points {
        let min = p.times.iter().min().copied().unwrap_or_default();
        let max = p.times.iter().max().copied().unwrap_or_default();
        let ratio = base.map_or_else(
            || "-".to_owned(),
            |b| fixed(p.median().as_secs_f64() / b.as_secs_f64().max(1e-9), 2),
        );
        table.row(vec![
            p.pods.to_string(),
            p.systems.to_string(),
            fixed(ms(p.median()), 1),
            format!("{}-{}", fixed(ms(min), 1), fixed(ms(max), 1)),
            ratio,
            fixed(p.cpu_per_system_us(), 1),
            fixed(p.startup_read.as_secs_f64(), 2),
            fixed(crate::stats::mib(p.peak_rss), 1),
        ]);
    }
    if let Some(b) = base {
        for (pods, limit) in [(100, 1.5), (1000, 3.0)] {
            if let Some(p) = points.iter().find(|p| p.pods == pods) {
                let ratio = p.median().as_secs_f64() / b.as_secs_f64().max(1e-9);
                table.note(format!(
                    "target N={pods} within {limit}x of N=1: {} ({ratio:.2}x)",
                    if ratio <= limit { "met" } else { "missed" }
                ));
            }
        }
    }
    table
}
