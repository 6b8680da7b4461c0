//! Scenario 3, compose overhead: `POST /v1/nodes` on PODMs that assemble at once, Valence's own
//! time (total minus the time the same PODM calls take when made directly), and a burst of
//! concurrent composes checked against the PODMs for errors and double allocations.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{Value, json};
use valence_pod_manager_api::{ComposeRequest, RsdVersion, allocate_body, parse};

use crate::http::{Http, decode};
use crate::process::{Server, ServerOptions, SimFleet};
use crate::report::{Table, fixed};
use crate::setup::{Backend, BenchDb, register_podms, wait_until_read};
use crate::stats::{ms, percentile};
use crate::{Bench, BenchError, SimOptions};

const ALLOCATE: &str = "#ComposedNodeCollection.Allocate";
const ASSEMBLE: &str = "#ComposedNode.Assemble";

#[derive(Debug, Clone, clap::Args)]
pub struct ComposeOptions {
    /// Databases to run on (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = vec![Backend::Sqlite, Backend::Postgres])]
    #[arg(value_enum)]
    pub backends: Vec<Backend>,
    /// PostgreSQL server (trust auth) on which a scratch database is created and dropped.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub pg_server: String,
    #[arg(long, default_value_t = 10)]
    pub pods: usize,
    #[arg(long, default_value_t = 50)]
    pub systems: usize,
    /// Composes measured one after another.
    #[arg(long, default_value_t = 100)]
    pub sequential: usize,
    /// Composes sent at once afterwards.
    #[arg(long, default_value_t = 50)]
    pub concurrent: usize,
}

/// Figures of one backend.
#[derive(Debug, Clone)]
pub struct ComposePoint {
    pub backend: Backend,
    /// The PODM calls of one compose made directly (Valence's RSD sequence).
    pub direct: Vec<Duration>,
    /// `POST /v1/nodes` answer time.
    pub post: Vec<Duration>,
    /// POST answer plus the background compose (node `created_at` to `updated_at` at ready).
    pub total: Vec<Duration>,
    /// Composes of the burst that ended ready / anything else.
    pub burst_ready: usize,
    pub burst_errors: Vec<String>,
    pub burst_wall: Duration,
    /// Systems used by two nodes at once, as the PODMs report them.
    pub double_allocations: usize,
}

impl ComposePoint {
    /// Valence's own time per compose: total minus the median direct PODM sequence.
    pub fn own(&self) -> Vec<Duration> {
        let podm = percentile(&self.direct, 50.0).unwrap_or_default();
        self.total.iter().map(|t| t.saturating_sub(podm)).collect()
    }
}

pub async fn measure(
    bench: &Bench,
    options: &ComposeOptions,
) -> Result<Vec<ComposePoint>, BenchError> {
    let mut points = Vec::new();
    for &backend in &options.backends {
        eprintln!("compose: {}", backend.name());
        points.push(measure_one(bench, options, backend).await?);
    }
    Ok(points)
}

async fn measure_one(
    bench: &Bench,
    options: &ComposeOptions,
    backend: Backend,
) -> Result<ComposePoint, BenchError> {
    let fleet =
        SimFleet::start(&bench.sim, &SimOptions::new(options.pods, options.systems)).await?;
    let dir = tempfile::tempdir().map_err(BenchError::io("creating a temporary directory"))?;
    let db = BenchDb::create(backend, dir.path(), &options.pg_server)?;
    register_podms(&db.open(2)?, &fleet.urls).await?;
    let server = Server::start(
        &bench.valence,
        &ServerOptions::quiet(db.url.clone()),
        dir.path(),
    )
    .await?;
    let http = &bench.http;
    wait_until_read(http, &server.base, options.pods, Duration::from_secs(600)).await?;

    let mut direct = Vec::new();
    for i in 0..options.sequential.max(10) {
        let podm = &fleet.urls[i % fleet.urls.len()];
        direct.push(direct_compose(http, podm).await?);
    }

    let mut post = Vec::new();
    let mut total = Vec::new();
    for i in 0..options.sequential {
        let name = format!("seq-{i}");
        let (answered, _) = compose_once(http, &server.base, &name).await?;
        let ready = wait_ready(http, &server.base, &name, Duration::from_secs(60)).await?;
        let span = server_span(&ready)?;
        post.push(answered);
        total.push(answered + span);
    }

    let burst_started = Instant::now();
    let sends: Vec<_> = (0..options.concurrent)
        .map(|i| {
            let http = http.clone();
            let base = server.base.clone();
            tokio::spawn(async move {
                let name = format!("burst-{i}");
                compose_once(&http, &base, &name).await.map(|_| name)
            })
        })
        .collect();
    let mut burst_errors = Vec::new();
    let mut burst_nodes = Vec::new();
    for send in sends {
        match send.await {
            Ok(Ok(name)) => burst_nodes.push(name),
            Ok(Err(e)) => burst_errors.push(e.to_string()),
            Err(e) => burst_errors.push(e.to_string()),
        }
    }
    let mut burst_ready = 0;
    for node in &burst_nodes {
        match wait_ready(http, &server.base, node, Duration::from_secs(120)).await {
            Ok(_) => burst_ready += 1,
            Err(e) => burst_errors.push(e.to_string()),
        }
    }
    let burst_wall = burst_started.elapsed();
    let expected_nodes = options.sequential + burst_ready;
    let double_allocations = double_allocations(http, &fleet.urls, expected_nodes).await?;
    server.process.stop().await;
    fleet.process.stop().await;
    Ok(ComposePoint {
        backend,
        direct,
        post,
        total,
        burst_ready,
        burst_errors,
        burst_wall,
        double_allocations,
    })
}

/// `POST /v1/nodes` (the scheduler picks the PODM): the answer time and the node's uuid.
async fn compose_once(
    http: &Http,
    base: &str,
    name: &str,
) -> Result<(Duration, String), BenchError> {
    let url = format!("{base}/v1/nodes");
    let started = Instant::now();
    let reply = http
        .expect(Method::POST, &url, Some(&json!({ "name": name })))
        .await?;
    let answered = started.elapsed();
    let node: Value = decode(&url, &reply.body)?;
    let uuid = node["uuid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Body {
            url,
            detail: "no uuid in the compose answer".into(),
        })?;
    Ok((answered, uuid))
}

/// Polls the node's record by its (unique) name, from the database only (no PODM call), until
/// it is `ready`.
async fn wait_ready(
    http: &Http,
    base: &str,
    name: &str,
    within: Duration,
) -> Result<Value, BenchError> {
    let started = Instant::now();
    let url = format!("{base}/v1/nodes?name={name}");
    loop {
        let found: Vec<Value> = http.get_json(&url).await?;
        let node = found.into_iter().next();
        match node.as_ref().and_then(|n| n["state"].as_str()) {
            Some("ready") => return node.ok_or_else(|| BenchError::Check(name.into())),
            Some("failed") => {
                let why = node
                    .map(|n| n["last_error"].to_string())
                    .unwrap_or_default();
                return Err(BenchError::Check(format!("node {name} failed: {why}")));
            }
            _ if started.elapsed() > within => {
                return Err(BenchError::Check(format!(
                    "node {name} not ready within {within:?}"
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    }
}

/// Server-side time of the background compose: from the node's record to its `ready` update.
fn server_span(node: &Value) -> Result<Duration, BenchError> {
    let time = |field: &str| {
        node[field]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| BenchError::Check(format!("node has no {field}: {node}")))
    };
    let span = time("updated_at")? - time("created_at")?;
    span.to_std()
        .map_err(|_| BenchError::Check(format!("node updated before it was created: {node}")))
}

fn action_target(doc: &Value, action: &str) -> Option<String> {
    doc["Actions"][action]["target"].as_str().map(str::to_owned)
}

/// The PODM calls Valence's RSD driver makes for one compose, made directly and timed: read
/// the Nodes collection (for the Allocate target), Allocate, read the node twice (record it,
/// see it `Allocated`), Assemble, read it `Assembled`. The node is deleted afterwards.
async fn direct_compose(http: &Http, base: &str) -> Result<Duration, BenchError> {
    let request = ComposeRequest {
        name: "direct".into(),
        description: None,
        requirements: Default::default(),
        tag: Some(uuid::Uuid::new_v4().to_string()),
    };
    let body = allocate_body(&request, RsdVersion::V2_3)
        .map_err(|e| BenchError::Check(format!("allocate body: {e}")))?;
    let nodes_url = format!("{base}/redfish/v1/Nodes");
    let started = Instant::now();
    let collection: Value = http.get_json(&nodes_url).await?;
    let target = action_target(&collection, ALLOCATE)
        .ok_or_else(|| BenchError::Check(format!("{nodes_url}: no {ALLOCATE} target")))?;
    let allocated = http
        .expect(Method::POST, &format!("{base}{target}"), Some(&body))
        .await?;
    let location = allocated
        .header("location")
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Check("Allocate answered without Location".into()))?;
    let node_url = if location.starts_with("http") {
        location
    } else {
        format!("{base}{location}")
    };
    let _first: Value = http.get_json(&node_url).await?;
    let node: Value = http.get_json(&node_url).await?;
    let assemble = action_target(&node, ASSEMBLE)
        .ok_or_else(|| BenchError::Check(format!("{node_url}: no {ASSEMBLE} target")))?;
    http.expect(Method::POST, &format!("{base}{assemble}"), Some(&json!({})))
        .await?;
    let assembled: Value = http.get_json(&node_url).await?;
    let took = started.elapsed();
    if assembled["ComposedNodeState"] != "Assembled" {
        return Err(BenchError::Check(format!(
            "{node_url}: {} after Assemble",
            assembled["ComposedNodeState"]
        )));
    }
    http.expect(Method::DELETE, &node_url, None).await?;
    Ok(took)
}

/// Reads every PODM's composed nodes and counts systems used by more than one; fails unless
/// the PODMs hold exactly `expected` nodes.
async fn double_allocations(
    http: &Http,
    podms: &[String],
    expected: usize,
) -> Result<usize, BenchError> {
    let mut users: HashMap<(String, String), usize> = HashMap::new();
    let mut nodes = 0;
    for base in podms {
        let url = format!("{base}/redfish/v1/Nodes");
        let collection: Value = http.get_json(&url).await?;
        let members = parse::collection_members(&url, &collection)
            .map_err(|e| BenchError::Check(e.to_string()))?;
        for member in members {
            let node_url = format!("{base}{member}");
            let doc: Value = http.get_json(&node_url).await?;
            let node = parse::node(&member, &doc).map_err(|e| BenchError::Check(e.to_string()))?;
            nodes += 1;
            if let Some(system) = node.system_uri {
                *users.entry((base.clone(), system)).or_default() += 1;
            }
        }
    }
    if nodes != expected {
        return Err(BenchError::Check(format!(
            "the PODMs hold {nodes} composed nodes, Valence made {expected}"
        )));
    }
    Ok(users.values().filter(|&&n| n > 1).map(|n| n - 1).sum())
}

pub fn table(options: &ComposeOptions, points: &[ComposePoint]) -> Table {
    let mut table = Table::new(
        format!(
            "Compose overhead: {} PODMs x {} systems, assemble delay 0; {} sequential composes, then {} at once",
            options.pods, options.systems, options.sequential, options.concurrent
        ),
        &[
            "database",
            "POST p50 ms",
            "total p50 ms",
            "direct PODM calls p50 ms",
            "Valence own p50 ms",
            "own p99 ms",
            "burst: ready / errors / double allocations",
            "burst wall s",
        ],
    );
    for p in points {
        let own = p.own();
        table.row(vec![
            p.backend.name().to_owned(),
            fixed(ms(percentile(&p.post, 50.0).unwrap_or_default()), 2),
            fixed(ms(percentile(&p.total, 50.0).unwrap_or_default()), 2),
            fixed(ms(percentile(&p.direct, 50.0).unwrap_or_default()), 2),
            fixed(ms(percentile(&own, 50.0).unwrap_or_default()), 2),
            fixed(ms(percentile(&own, 99.0).unwrap_or_default()), 2),
            format!(
                "{} / {} / {}",
                p.burst_ready,
                p.burst_errors.len(),
                p.double_allocations
            ),
            fixed(p.burst_wall.as_secs_f64(), 2),
        ]);
        let own50 = ms(percentile(&own, 50.0).unwrap_or_default());
        table.note(format!(
            "{}: target own p50 < 5 ms: {} ({own50:.2} ms); burst without error or double allocation: {}",
            p.backend.name(),
            if own50 < 5.0 { "met" } else { "missed" },
            if p.burst_errors.is_empty() && p.double_allocations == 0 {
                "met"
            } else {
                "missed"
            }
        ));
        for e in p.burst_errors.iter().take(3) {
            table.note(format!("{} burst error: {e}", p.backend.name()));
        }
    }
    table
}
