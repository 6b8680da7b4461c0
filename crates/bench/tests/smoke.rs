//! Keeps the benchmark command from rotting: the fan-out scenario end to end on a tiny fleet
//! (2 PODMs x 5 systems), with the real server and simulator processes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use valence_bench::Bench;
use valence_bench::scenario::fanout::{FanoutOptions, measure, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_runs_end_to_end_and_reports_figures() {
    let valence = valence_bench::process::valence_binary().unwrap();
    let bench = Bench::with_valence_sim(valence);
    let options = FanoutOptions {
        pods: vec![1, 2],
        systems: 5,
        latency_ms: 0,
        runs: 2,
    };
    let points = measure(&bench, &options).await.unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[1].pods, 2);
    assert_eq!(
        points[1].systems, 10,
        "every system of both PODMs came back"
    );
    assert_eq!(points[1].times.len(), 2);
    assert!(points[1].peak_rss > 0);
    let markdown = table(&options, &points).markdown();
    assert!(markdown.contains("| 2 | 10 |"), "{markdown}");
}
