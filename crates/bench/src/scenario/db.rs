//! Scenario 5, database: 10,000 PODMs and 100,000 nodes; the p50 of the queries the API runs
//! most, on SQLite and PostgreSQL, on a pooled connection and through `Db::run` (the
//! `spawn_blocking` hop every request makes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::BenchError;
use crate::dbbench::{Fixture, Query, populate, time_query};
use crate::report::{Table, fixed};
use crate::setup::{Backend, BenchDb};
use crate::stats::percentile;

#[derive(Debug, Clone, clap::Args)]
pub struct DbOptions {
    #[arg(long, value_delimiter = ',', default_values_t = vec![Backend::Sqlite, Backend::Postgres])]
    #[arg(value_enum)]
    pub backends: Vec<Backend>,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub pg_server: String,
    #[arg(long, default_value_t = 10_000)]
    pub podms: usize,
    #[arg(long, default_value_t = 100_000)]
    pub nodes: usize,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 1000)]
    pub samples: usize,
}

#[derive(Debug, Clone)]
pub struct DbPoint {
    pub backend: Backend,
    pub populate: Duration,
    /// Per query: direct times and times through `Db::run`.
    pub queries: Vec<(Query, Vec<Duration>, Vec<Duration>)>,
}

pub async fn measure(options: &DbOptions) -> Result<Vec<DbPoint>, BenchError> {
    let mut points = Vec::new();
    for &backend in &options.backends {
        let dir = tempfile::tempdir().map_err(BenchError::io("creating a temporary directory"))?;
        let bench_db = BenchDb::create(backend, dir.path(), &options.pg_server)?;
        let db = bench_db.open(4)?;
        eprintln!(
            "db: {}: inserting {} PODMs and {} nodes",
            backend.name(),
            options.podms,
            options.nodes
        );
        let started = Instant::now();
        let fixture = Arc::new(populate(&db, options.podms, options.nodes).await?);
        let populate_time = started.elapsed();
        let mut queries = Vec::new();
        for query in Query::ALL {
            // Fewer samples of the whole-table query: it is the slow one by design.
            let samples = if query == Query::CountsPerPodm {
                options.samples.min(50)
            } else {
                options.samples
            };
            let (db2, fx) = (db.clone(), fixture.clone());
            let direct = tokio::task::spawn_blocking(move || time_query(&db2, &fx, query, samples))
                .await
                .map_err(|e| BenchError::Check(e.to_string()))??;
            let mut through_run = Vec::with_capacity(samples);
            for i in 0..samples {
                let fx: Arc<Fixture> = fixture.clone();
                let started = Instant::now();
                db.run(move |conn| query.run(conn, &fx, i)).await?;
                through_run.push(started.elapsed());
            }
            queries.push((query, direct, through_run));
        }
        points.push(DbPoint {
            backend,
            populate: populate_time,
            queries,
        });
    }
    Ok(points)
}

pub fn table(options: &DbOptions, points: &[DbPoint]) -> Table {
    let mut table = Table::new(
        format!(
            "Database: {} PODMs, {} nodes, {} samples per query",
            options.podms, options.nodes, options.samples
        ),
        &[
            "database",
            "query",
            "p50 ms",
            "p99 ms",
            "p50 via Db::run ms",
            "target p50 < 1 ms",
        ],
    );
    let ms = |d: Option<Duration>| fixed(crate::stats::ms(d.unwrap_or_default()), 3);
    for p in points {
        for (query, direct, run) in &p.queries {
            let p50 = percentile(direct, 50.0).unwrap_or_default();
            let target = match query {
                Query::NodeByUuid | Query::NodesOfPodm | Query::CountValenceMade => {
                    if p50 < Duration::from_millis(1) {
                        "met"
                    } else {
                        "missed"
                    }
                }
                _ => "-",
            };
            table.row(vec![
                p.backend.name().to_owned(),
                query.name().to_owned(),
                ms(Some(p50)),
                ms(percentile(direct, 99.0)),
                ms(percentile(run, 50.0)),
                target.to_owned(),
            ]);
        }
        table.note(format!(
            "{}: populating took {:.1} s",
            p.backend.name(),
            p.populate.as_secs_f64()
        ));
    }
    table
}
