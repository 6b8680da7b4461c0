//! Scenario 4, scale: 1,000 PODMs x 100 systems. The cold full aggregate, the server's peak
//! memory, and the CPU its background refresh and health checks use at the shipped intervals.

use std::time::Duration;

use crate::process::{Server, ServerOptions, SimFleet};
use crate::report::{Table, fixed};
use crate::setup::{Backend, BenchDb, register_podms, wait_until_read};
use crate::stats::{median, mib, ms};
use crate::{Bench, BenchError, SimOptions, procfs};

#[derive(Debug, Clone, clap::Args)]
pub struct ScaleOptions {
    #[arg(long, default_value_t = 1000)]
    pub pods: usize,
    #[arg(long, default_value_t = 100)]
    pub systems: usize,
    /// Milliseconds every simulated PODM waits before each answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Full aggregates measured.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Seconds of idle server CPU measured with the background loops at their intervals.
    #[arg(long, default_value_t = 180)]
    pub idle_seconds: u64,
    /// Inventory refresh interval during the idle measurement, seconds.
    #[arg(long, default_value_t = 30)]
    pub refresh_seconds: u64,
    /// Health check interval during the idle measurement, seconds.
    #[arg(long, default_value_t = 10)]
    pub health_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct ScaleResult {
    pub systems: usize,
    pub startup_read: Duration,
    pub aggregates: Vec<Duration>,
    pub aggregate_cpu: Duration,
    pub peak_rss_aggregates: u64,
    /// Server CPU over the idle window divided by its length (1.0 = one core busy).
    pub idle_cores: f64,
    pub peak_rss_idle: u64,
}

pub async fn measure(bench: &Bench, options: &ScaleOptions) -> Result<ScaleResult, BenchError> {
    let sim = SimOptions::new(options.pods, options.systems).latency(options.latency_ms);
    let fleet = SimFleet::start(&bench.sim, &sim).await?;
    let dir = tempfile::tempdir().map_err(BenchError::io("creating a temporary directory"))?;
    let db = BenchDb::create(Backend::Sqlite, dir.path(), "")?;
    register_podms(&db.open(2)?, &fleet.urls).await?;
    let expected = options.pods * options.systems;
    let within = Duration::from_secs(3600);

    eprintln!("scale: aggregates over {expected} systems");
    let server = Server::start(
        &bench.valence,
        &ServerOptions::quiet(db.url.clone()),
        dir.path(),
    )
    .await?;
    let startup_read = wait_until_read(&bench.http, &server.base, options.pods, within).await?;
    let before = procfs::cpu_time(server.pid())?;
    let mut aggregates = Vec::new();
    for run in 0..options.runs {
        let (took, count, failed) = super::aggregate(&bench.http, &server.base).await?;
        if count != expected || failed.is_some() {
            return Err(BenchError::Check(format!(
                "run {run}: {count} systems of {expected}; failed PODMs: {}",
                failed.unwrap_or_default()
            )));
        }
        aggregates.push(took);
    }
    let aggregate_cpu = procfs::cpu_time(server.pid())?.saturating_sub(before);
    let peak_rss_aggregates = procfs::peak_rss(server.pid())?;
    server.process.stop().await;

    eprintln!(
        "scale: idle CPU over {} s (refresh every {} s, health every {} s)",
        options.idle_seconds, options.refresh_seconds, options.health_seconds
    );
    let mut idle = ServerOptions::quiet(db.url.clone());
    idle.refresh_interval = Duration::from_secs(options.refresh_seconds);
    idle.cache_ttl = Duration::from_secs(options.refresh_seconds * 2);
    idle.health_interval = Duration::from_secs(options.health_seconds);
    let server = Server::start(&bench.valence, &idle, dir.path()).await?;
    wait_until_read(&bench.http, &server.base, options.pods, within).await?;
    // Past the start-up read, so the window holds only the periodic work.
    tokio::time::sleep(Duration::from_secs(options.refresh_seconds)).await;
    let before = procfs::cpu_time(server.pid())?;
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(options.idle_seconds)).await;
    let idle_cores = procfs::cpu_time(server.pid())?
        .saturating_sub(before)
        .as_secs_f64()
        / started.elapsed().as_secs_f64();
    let peak_rss_idle = procfs::peak_rss(server.pid())?;
    server.process.stop().await;
    fleet.process.stop().await;
    Ok(ScaleResult {
        systems: expected,
        startup_read,
        aggregates,
        aggregate_cpu,
        peak_rss_aggregates,
        idle_cores,
        peak_rss_idle,
    })
}

pub fn table(options: &ScaleOptions, r: &ScaleResult) -> Table {
    let mut table = Table::new(
        format!(
            "Scale: {} PODMs x {} systems, {} ms per PODM answer",
            options.pods, options.systems, options.latency_ms
        ),
        &["figure", "value", "target"],
    );
    let agg = median(&r.aggregates).unwrap_or_default();
    let per_system_us =
        r.aggregate_cpu.as_secs_f64() * 1e6 / (r.systems * r.aggregates.len()).max(1) as f64;
    let peak = r.peak_rss_aggregates.max(r.peak_rss_idle);
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    table.row(vec![
        format!(
            "cold full aggregate `GET /v1/systems?refresh=true` ({} systems), median of {}",
            r.systems,
            r.aggregates.len()
        ),
        format!("{} ms", fixed(ms(agg), 0)),
        format!("< 2 s: {}", verdict(agg < Duration::from_secs(2))),
    ]);
    table.row(vec![
        "server CPU per system of the aggregate".into(),
        format!("{} us", fixed(per_system_us, 1)),
        "-".into(),
    ]);
    table.row(vec![
        "start-up read (every cache empty, background refresh)".into(),
        format!("{} s", fixed(r.startup_read.as_secs_f64(), 1)),
        "-".into(),
    ]);
    table.row(vec![
        "server peak RSS (VmHWM)".into(),
        format!("{} MiB", fixed(mib(peak), 0)),
        format!("< 300 MB: {}", verdict(peak < 300_000_000)),
    ]);
    table.row(vec![
        format!(
            "idle server CPU, refresh every {} s and health every {} s, over {} s",
            options.refresh_seconds, options.health_seconds, options.idle_seconds
        ),
        format!("{} % of one core", fixed(r.idle_cores * 100.0, 1)),
        format!("< 10 %: {}", verdict(r.idle_cores < 0.10)),
    ]);
    table
}
