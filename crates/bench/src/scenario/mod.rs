//! The scenarios of docs/BENCHMARKS.md, one module each.

pub mod compose;
pub mod db;
pub mod fanout;
pub mod reads;
pub mod scale;

use std::time::Duration;

use crate::BenchError;
use crate::http::{Http, array_len};

/// `GET /v1/systems?refresh=true` once: wall time, and the number of systems and failed PODMs
/// it reported.
pub(crate) async fn aggregate(
    http: &Http,
    base: &str,
) -> Result<(Duration, usize, Option<String>), BenchError> {
    let url = format!("{base}/v1/systems?refresh=true");
    let started = std::time::Instant::now();
    let reply = http.expect(http::Method::GET, &url, None).await?;
    let took = started.elapsed();
    let count = array_len(&url, &reply.body)?;
    let failed = reply.header("valence-failed-podms").map(str::to_owned);
    Ok((took, count, failed))
}
