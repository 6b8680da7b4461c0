//! Scenario 2, cached reads: `GET /v1/pod_managers` (every PODM with its usage) and a page of
//! `GET /v1/systems?limit=100` from the cached inventories, under a closed-loop load on loopback.

use std::time::Duration;

use crate::http::array_len;
use crate::load::{self, LoadOptions, LoadResult};
use crate::process::{Server, ServerOptions, SimFleet};
use crate::report::{Table, fixed};
use crate::setup::{Backend, BenchDb, register_podms, wait_until_read};
use crate::stats::{median, ms};
use crate::{Bench, BenchError, SimOptions, procfs};

#[derive(Debug, Clone, clap::Args)]
pub struct ReadsOptions {
    #[arg(long, default_value_t = 100)]
    pub pods: usize,
    /// Systems per PODM (100 x 100 = 10,000 cached systems).
    #[arg(long, default_value_t = 100)]
    pub systems: usize,
    /// Connections sending requests at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds measured per run (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Runs per endpoint.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// Figures of one endpoint.
#[derive(Debug, Clone)]
pub struct ReadPoint {
    pub endpoint: String,
    pub runs: Vec<LoadResult>,
    /// Server CPU time per run divided by its length (1.0 = one core busy).
    pub server_cores: Vec<f64>,
}

impl ReadPoint {
    fn med(&self, f: impl Fn(&LoadResult) -> f64) -> f64 {
        median(&self.runs.iter().map(f).collect::<Vec<_>>()).unwrap_or_default()
    }
}

pub async fn measure(bench: &Bench, options: &ReadsOptions) -> Result<Vec<ReadPoint>, BenchError> {
    let fleet =
        SimFleet::start(&bench.sim, &SimOptions::new(options.pods, options.systems)).await?;
    let dir = tempfile::tempdir().map_err(BenchError::io("creating a temporary directory"))?;
    let db = BenchDb::create(Backend::Sqlite, dir.path(), "")?;
    register_podms(&db.open(2)?, &fleet.urls).await?;
    let server = Server::start(
        &bench.valence,
        &ServerOptions::quiet(db.url.clone()),
        dir.path(),
    )
    .await?;
    wait_until_read(
        &bench.http,
        &server.base,
        options.pods,
        Duration::from_secs(1800),
    )
    .await?;
    let endpoints = [
        ("/v1/pod_managers".to_owned(), options.pods),
        (
            "/v1/systems?limit=100".to_owned(),
            100.min(options.pods * options.systems),
        ),
    ];
    let http = crate::http::Http::new(options.concurrency, Duration::from_secs(30));
    let load_options = LoadOptions {
        concurrency: options.concurrency,
        warmup: Duration::from_secs(2),
        duration: Duration::from_secs(options.seconds),
    };
    let mut points = Vec::new();
    for (path, expected) in endpoints {
        let url = server.url(&path);
        let reply = http.get(&url).await?;
        let count = array_len(&url, &reply.body)?;
        if reply.status != 200 || count != expected {
            return Err(BenchError::Check(format!(
                "{path}: status {}, {count} items, expected 200 and {expected}",
                reply.status
            )));
        }
        eprintln!("reads: {path}, {} connections", options.concurrency);
        let mut point = ReadPoint {
            endpoint: format!("GET {path}"),
            runs: Vec::new(),
            server_cores: Vec::new(),
        };
        for _ in 0..options.runs {
            let before = procfs::cpu_time(server.pid())?;
            let started = std::time::Instant::now();
            let result = load::run(&http, &url, &load_options).await;
            let cores = procfs::cpu_time(server.pid())?
                .saturating_sub(before)
                .as_secs_f64()
                / started.elapsed().as_secs_f64();
            point.runs.push(result);
            point.server_cores.push(cores);
        }
        points.push(point);
    }
    server.process.stop().await;
    fleet.process.stop().await;
    Ok(points)
}

pub fn table(options: &ReadsOptions, points: &[ReadPoint]) -> Table {
    let mut table = Table::new(
        format!(
            "Cached reads: {} PODMs x {} systems, {} connections, {} s per run, median of {} runs",
            options.pods, options.systems, options.concurrency, options.seconds, options.runs
        ),
        &[
            "endpoint",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "server cores busy",
        ],
    );
    for p in points {
        let errors: u64 = p.runs.iter().map(|r| r.errors).sum();
        table.row(vec![
            format!("`{}`", p.endpoint),
            fixed(p.med(LoadResult::per_second), 0),
            fixed(p.med(|r| ms(r.p50)), 2),
            fixed(p.med(|r| ms(r.p99)), 2),
            fixed(p.med(|r| ms(r.max)), 2),
            errors.to_string(),
            fixed(median(&p.server_cores).unwrap_or_default(), 2),
        ]);
    }
    if let Some(list) = points.iter().find(|p| p.endpoint.contains("pod_managers")) {
        let rps = list.med(LoadResult::per_second);
        let p99 = list.med(|r| ms(r.p99));
        table.note(format!(
            "target PODM list >= 20,000 req/s: {} ({rps:.0}); p99 < 10 ms: {} ({p99:.2} ms)",
            if rps >= 20_000.0 { "met" } else { "missed" },
            if p99 < 10.0 { "met" } else { "missed" },
        ));
    }
    table
}
