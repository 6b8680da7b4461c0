//! A closed-loop load generator: `concurrency` workers each send one GET after another on
//! their keep-alive connection for a fixed time; latencies of the requests started after the
//! warm-up are kept.

use std::time::{Duration, Instant};

use crate::http::Http;
use crate::stats::percentile;

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// Outcome of one load run.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Requests answered 2xx and counted (started after the warm-up).
    pub ok: u64,
    /// Requests that failed or were not answered 2xx (counted after the warm-up).
    pub errors: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Drives `url` with `options`. Callers check one answer beforehand, so that a fast error is
/// never measured as a fast answer; answers other than 2xx count as errors.
pub async fn run(http: &Http, url: &str, options: &LoadOptions) -> LoadResult {
    let start = Instant::now();
    let counted_from = start + options.warmup;
    let end = counted_from + options.duration;
    let workers: Vec<_> = (0..options.concurrency.max(1))
        .map(|_| {
            let http = http.clone();
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut latencies: Vec<Duration> = Vec::with_capacity(16 * 1024);
                let mut errors = 0u64;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let outcome = http.get(&url).await;
                    let took = sent.elapsed();
                    if sent < counted_from {
                        continue;
                    }
                    match outcome {
                        Ok(reply) if (200..300).contains(&reply.status) => latencies.push(took),
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        match worker.await {
            Ok((l, e)) => {
                latencies.extend(l);
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    // The last requests may end a little after `end`; the window counted is until then.
    let elapsed = Instant::now().saturating_duration_since(counted_from);
    LoadResult {
        ok: latencies.len() as u64,
        errors,
        elapsed,
        p50: percentile(&latencies, 50.0).unwrap_or_default(),
        p99: percentile(&latencies, 99.0).unwrap_or_default(),
        max: percentile(&latencies, 100.0).unwrap_or_default(),
    }
}
