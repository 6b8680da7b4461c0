//! Criterion bench of scenario 5: the most frequent queries over 10,000 PODMs and 100,000 nodes
//! on SQLite (and PostgreSQL when `VALENCE_BENCH_PG` names a server, e.g.
//! `postgres://postgres@127.0.0.1:5432`). Sizes: `VALENCE_BENCH_PODMS`, `VALENCE_BENCH_NODES`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use valence_bench::dbbench::{Query, populate};
use valence_bench::setup::{Backend, BenchDb};

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn queries(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let podms = size("VALENCE_BENCH_PODMS", 10_000);
    let nodes = size("VALENCE_BENCH_NODES", 100_000);
    let mut backends = vec![(Backend::Sqlite, String::new())];
    if let Ok(server) = std::env::var("VALENCE_BENCH_PG") {
        backends.push((Backend::Postgres, server));
    }
    for (backend, server) in backends {
        let dir = tempfile::tempdir().unwrap();
        let bench_db = BenchDb::create(backend, dir.path(), &server).unwrap();
        let db = bench_db.open(2).unwrap();
        let fixture = runtime.block_on(populate(&db, podms, nodes)).unwrap();
        let mut conn = db.get().unwrap();
        let mut group = c.benchmark_group(backend.name());
        for query in Query::ALL {
            let mut i = 0usize;
            group.bench_function(query.name(), |b| {
                b.iter(|| {
                    i += 1;
                    query.run(&mut conn, &fixture, i).unwrap()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = queries
}
criterion_main!(benches);
