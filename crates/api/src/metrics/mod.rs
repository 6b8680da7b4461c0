//! Prometheus metrics of one server, served at `GET /metrics` (Prometheus text format).
//!
//! Two kinds: event metrics (counters and histograms) recorded as things happen, by the HTTP
//! middleware ([`http`]), the PODM connection wrapper ([`podm`]), the database pool observer
//! ([`db`]) and the compose task; and state metrics (PODM up, breaker, usage, pool connections)
//! read from the server's state at each scrape, so they never go stale and a deleted PODM
//! disappears from them at once.
//!
//! Every server (every [`crate::AppState`]) has its own [`Metrics`]: no global recorder, so
//! tests run servers side by side. docs/OPERATIONS.md lists every metric.

pub mod db;
pub mod http;
pub mod podm;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

/// Content type of the scrape answer (OpenMetrics text, which Prometheus reads natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Seconds; from a fast API answer to a slow aggregated one.
const HTTP_BUCKETS: [f64; 13] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Seconds; PODM calls run under deadlines of a few seconds (compose: minutes, in +Inf).
const PODM_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Seconds; a compose waits for the PODM to assemble the node (default limit 10 min).
const COMPOSE_BUCKETS: [f64; 11] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0,
];
/// Seconds; database work is usually sub-millisecond on SQLite, a few ms on PostgreSQL.
const DB_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0,
];

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

fn podm_histogram() -> Histogram {
    Histogram::new(PODM_BUCKETS)
}

fn compose_histogram() -> Histogram {
    Histogram::new(COMPOSE_BUCKETS)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PodmCallLabels {
    podm: String,
    name: String,
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PodmErrorLabels {
    podm: String,
    name: String,
    operation: &'static str,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PodmLabels {
    podm: String,
    name: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PodmInfoLabels {
    podm: String,
    name: String,
    driver: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

/// How a compose ended, as counted by `valence_compose_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeResult {
    /// The node is assembled and recorded `ready`.
    Ready,
    /// The PODM failed the compose, or every candidate PODM refused it.
    Failed,
    /// Refused at once: no PODM can hold the node (409 `NoValidPodm`).
    NoValidPodm,
}

impl ComposeResult {
    fn label(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::NoValidPodm => "no_valid_podm",
        }
    }
}

/// The event metrics of one server; the state metrics are read at each scrape.
#[derive(Debug)]
pub struct Metrics {
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    http_in_flight: Gauge,
    podm_duration: HistogramFamily<PodmCallLabels>,
    podm_errors: Family<PodmErrorLabels, Counter>,
    /// Names each PODM had in labels, so its series can all be dropped when it goes.
    podm_names: Mutex<HashMap<String, HashSet<String>>>,
    composes: Family<OutcomeLabels, Counter>,
    compose_duration: HistogramFamily<OutcomeLabels>,
    db_wait: Histogram,
    db_held: Histogram,
    db_timeouts: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(http_histogram as fn() -> Histogram),
            http_in_flight: Gauge::default(),
            podm_duration: Family::new_with_constructor(podm_histogram as fn() -> Histogram),
            podm_errors: Family::default(),
            podm_names: Mutex::new(HashMap::new()),
            composes: Family::default(),
            compose_duration: Family::new_with_constructor(compose_histogram as fn() -> Histogram),
            db_wait: Histogram::new(DB_BUCKETS),
            db_held: Histogram::new(DB_BUCKETS),
            db_timeouts: Counter::default(),
        }
    }

    /// Counts a finished compose; `duration` from acceptance to the end, when it ran.
    pub fn compose_finished(&self, result: ComposeResult, duration: Option<Duration>) {
        let labels = OutcomeLabels {
            outcome: result.label(),
        };
        self.composes.get_or_create(&labels).inc();
        if let Some(duration) = duration {
            self.compose_duration
                .get_or_create(&labels)
                .observe(duration.as_secs_f64());
        }
    }

    /// Drops the call series of a PODM that was deleted or renamed, so labels do not pile up.
    pub fn forget_podm(&self, uuid: &str) {
        let names = self
            .podm_names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(uuid)
            .unwrap_or_default();
        for name in names {
            for &operation in podm::OPERATIONS {
                self.podm_duration.remove(&PodmCallLabels {
                    podm: uuid.to_owned(),
                    name: name.clone(),
                    operation,
                });
                for &kind in podm::ERROR_KINDS {
                    self.podm_errors.remove(&PodmErrorLabels {
                        podm: uuid.to_owned(),
                        name: name.clone(),
                        operation,
                        kind,
                    });
                }
            }
        }
    }

    fn remember_podm_name(&self, uuid: &str, name: &str) {
        let mut names = self
            .podm_names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = names.entry(uuid.to_owned()).or_default();
        if !known.contains(name) {
            known.insert(name.to_owned());
        }
    }

    /// Registers clones of the event metrics (they share their values) in `registry`.
    fn register_events(&self, registry: &mut Registry) {
        registry.register(
            "valence_http_requests",
            "HTTP requests answered, by route template, method and status",
            self.http_requests.clone(),
        );
        registry.register(
            "valence_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            self.http_duration.clone(),
        );
        registry.register(
            "valence_http_requests_in_flight",
            "HTTP requests being served",
            self.http_in_flight.clone(),
        );
        registry.register(
            "valence_podm_request_duration_seconds",
            "Time of one call to a pod manager (all its HTTP requests and retries), by operation",
            self.podm_duration.clone(),
        );
        registry.register(
            "valence_podm_request_errors",
            "Failed calls to a pod manager, by operation and kind (unreachable, bad_response, rejected, conflict, not_found, unsupported, compose_failed, aborted, abandoned)",
            self.podm_errors.clone(),
        );
        registry.register(
            "valence_compose",
            "Composes finished, by outcome (ready, failed, no_valid_podm)",
            self.composes.clone(),
        );
        registry.register(
            "valence_compose_duration_seconds",
            "Time from accepting a compose to its node ready or failed, by outcome",
            self.compose_duration.clone(),
        );
        registry.register(
            "valence_db_pool_wait_seconds",
            "Time waited for a database connection from the pool",
            self.db_wait.clone(),
        );
        registry.register(
            "valence_db_query_duration_seconds",
            "Time a database connection was held for one unit of work (a query or a transaction)",
            self.db_held.clone(),
        );
        registry.register(
            "valence_db_pool_timeouts",
            "Requests for a database connection that found none free in time",
            self.db_timeouts.clone(),
        );
    }
}

/// One PODM's state at scrape time.
struct PodmSample {
    labels: PodmLabels,
    driver: String,
    state: String,
    up: bool,
    breaker_open: bool,
    consecutive_failures: u32,
    last_seen: Option<SystemTime>,
    valence_nodes: i64,
    inventory: Option<Arc<valence_redfish::Inventory>>,
}

/// What is read from the server's state at each scrape.
struct Snapshot {
    podms: Vec<PodmSample>,
    pool: valence_db::PoolState,
    cache: valence_redfish::CacheStats,
    composes_running: usize,
}

fn as_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn snapshot(state: &AppState) -> Snapshot {
    let mut podms = Vec::new();
    let rows = crate::service::podms::all_rows(state).await;
    let counts = state.db.run(valence_db::nodes::counts_per_podm).await;
    match (rows, counts) {
        (Ok(rows), Ok(counts)) => {
            for row in rows {
                let uuid = row.uuid.to_string();
                let view = state.aggregator.health().view(&uuid);
                let (status, _, _) = crate::service::podms::live_status(state, &row);
                podms.push(PodmSample {
                    labels: PodmLabels {
                        podm: uuid.clone(),
                        name: row.name.clone(),
                    },
                    driver: row.driver.as_str().to_owned(),
                    state: row.state.as_str().to_owned(),
                    up: status == valence_db::PodmStatus::Online,
                    breaker_open: view.breaker_open,
                    consecutive_failures: view.consecutive_failures,
                    last_seen: view.last_seen,
                    valence_nodes: counts.get(&row.uuid).map_or(0, |c| c.valence_made),
                    inventory: state.aggregator.peek(&uuid).await,
                });
            }
        }
        (Err(err), _) => {
            tracing::warn!(detail = %err.detail, "metrics: cannot list pod managers");
        }
        (_, Err(err)) => {
            tracing::warn!(%err, "metrics: cannot count nodes");
        }
    }
    Snapshot {
        podms,
        pool: state.db.pool_state(),
        cache: state.aggregator.cache_stats(),
        composes_running: state.tasks.len(),
    }
}

/// Registers the state metrics of `snapshot` in `registry`.
fn register_state(snapshot: &Snapshot, registry: &mut Registry) {
    let info = Family::<VersionLabels, Gauge>::default();
    info.get_or_create(&VersionLabels {
        version: env!("CARGO_PKG_VERSION"),
    })
    .set(1);
    registry.register("valence_build_info", "Valence version", info);

    let podm_info = Family::<PodmInfoLabels, Gauge>::default();
    let up = Family::<PodmLabels, Gauge>::default();
    let breaker = Family::<PodmLabels, Gauge>::default();
    let failures = Family::<PodmLabels, Gauge>::default();
    let last_seen = Family::<PodmLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    let systems = Family::<PodmLabels, Gauge>::default();
    let systems_free = Family::<PodmLabels, Gauge>::default();
    let nodes = Family::<PodmLabels, Gauge>::default();
    let valence_nodes = Family::<PodmLabels, Gauge>::default();
    let cores_free = Family::<PodmLabels, Gauge>::default();
    let memory_free = Family::<PodmLabels, Gauge>::default();
    let inventory_age = Family::<PodmLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    let now = SystemTime::now();
    for podm in &snapshot.podms {
        let labels = &podm.labels;
        podm_info
            .get_or_create(&PodmInfoLabels {
                podm: labels.podm.clone(),
                name: labels.name.clone(),
                driver: podm.driver.clone(),
                state: podm.state.clone(),
            })
            .set(1);
        up.get_or_create(labels).set(i64::from(podm.up));
        breaker
            .get_or_create(labels)
            .set(i64::from(podm.breaker_open));
        failures
            .get_or_create(labels)
            .set(i64::from(podm.consecutive_failures));
        if let Some(seen) = podm.last_seen {
            last_seen.get_or_create(labels).set(unix_seconds(seen));
        }
        valence_nodes.get_or_create(labels).set(podm.valence_nodes);
        if let Some(inventory) = &podm.inventory {
            let usage = &inventory.usage;
            systems
                .get_or_create(labels)
                .set(as_i64(usage.systems_total));
            systems_free
                .get_or_create(labels)
                .set(as_i64(usage.systems_free));
            nodes.get_or_create(labels).set(as_i64(usage.nodes_total));
            cores_free
                .get_or_create(labels)
                .set(as_i64(usage.cores_free));
            memory_free
                .get_or_create(labels)
                .set(as_i64(usage.memory_free_mib.saturating_mul(1024 * 1024)));
            let age = now
                .duration_since(inventory.fetched_at)
                .unwrap_or_default()
                .as_secs_f64();
            inventory_age.get_or_create(labels).set(age);
        }
    }
    registry.register(
        "valence_podm_info",
        "Registered pod managers (value 1), with their driver and state (active, cordoned, deleting)",
        podm_info,
    );
    registry.register(
        "valence_podm_up",
        "1 when the pod manager is Online, 0 when Offline or not yet reached",
        up,
    );
    registry.register(
        "valence_podm_circuit_open",
        "1 while the pod manager's circuit breaker is open (calls refused until a probe succeeds)",
        breaker,
    );
    registry.register(
        "valence_podm_consecutive_failures",
        "Transport failures of the pod manager since its last success",
        failures,
    );
    registry.register(
        "valence_podm_last_seen_timestamp_seconds",
        "When the pod manager last answered (Unix time)",
        last_seen,
    );
    registry.register(
        "valence_podm_systems",
        "Computer systems of the pod manager (cached inventory)",
        systems,
    );
    registry.register(
        "valence_podm_systems_free",
        "Computer systems of the pod manager not part of a composed node (cached inventory)",
        systems_free,
    );
    registry.register(
        "valence_podm_composed_nodes",
        "Composed nodes on the pod manager, by anyone (cached inventory)",
        nodes,
    );
    registry.register(
        "valence_podm_valence_nodes",
        "Nodes on the pod manager made by Valence (database)",
        valence_nodes,
    );
    registry.register(
        "valence_podm_cores_free",
        "Processor cores of the pod manager's free systems (cached inventory)",
        cores_free,
    );
    registry.register(
        "valence_podm_memory_free_bytes",
        "Memory of the pod manager's free systems (cached inventory)",
        memory_free,
    );
    registry.register(
        "valence_podm_inventory_age_seconds",
        "Age of the pod manager's cached inventory",
        inventory_age,
    );

    let lookups = Family::<ResultLabels, Counter>::default();
    lookups
        .get_or_create(&ResultLabels { result: "hit" })
        .inc_by(snapshot.cache.hits);
    lookups
        .get_or_create(&ResultLabels { result: "miss" })
        .inc_by(snapshot.cache.misses);
    registry.register(
        "valence_inventory_cache_lookups",
        "Inventory cache lookups: hit (served from cache) or miss (read from the pod manager, or nothing to show)",
        lookups,
    );

    let running = Gauge::<i64>::default();
    running.set(as_i64(snapshot.composes_running));
    registry.register(
        "valence_composes_in_progress",
        "Composes this instance is driving now",
        running,
    );

    let connections = Family::<StateLabels, Gauge>::default();
    connections
        .get_or_create(&StateLabels { state: "in_use" })
        .set(i64::from(snapshot.pool.in_use()));
    connections
        .get_or_create(&StateLabels { state: "idle" })
        .set(i64::from(snapshot.pool.idle));
    registry.register(
        "valence_db_pool_connections",
        "Open database connections, in use or idle",
        connections,
    );
    let max = Gauge::<i64>::default();
    max.set(i64::from(snapshot.pool.max_connections));
    registry.register(
        "valence_db_pool_max_connections",
        "Most database connections the pool opens (database.max_connections)",
        max,
    );
}

/// The scrape answer: every metric of the server, read now.
pub async fn render(state: &AppState) -> Result<String, std::fmt::Error> {
    let snapshot = snapshot(state).await;
    let mut registry = Registry::default();
    state.metrics.register_events(&mut registry);
    register_state(&snapshot, &mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The event metrics as exposed, and the value of one series in such text, for tests.
#[cfg(test)]
pub(crate) mod exposition {
    use super::*;

    pub fn encoded(metrics: &Metrics) -> String {
        let mut registry = Registry::default();
        metrics.register_events(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    /// The value of the sample `series` (name and labels as written), if present.
    pub fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::exposition::{encoded, value};
    use super::*;

    #[test]
    fn histograms_get_the_buckets_asked_for() {
        let family: HistogramFamily<OutcomeLabels> =
            Family::new_with_constructor(compose_histogram as fn() -> Histogram);
        let labels = OutcomeLabels { outcome: "ready" };
        family.get_or_create(&labels).observe(700.0);
        let mut registry = Registry::default();
        registry.register("t", "t", family);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("le=\"1200.0\""), "{text}");
        assert!(!text.contains("le=\"0.002\""), "{text}");
    }

    #[test]
    fn forgetting_a_podm_drops_its_call_series() {
        let metrics = Metrics::new();
        metrics.remember_podm_name("p-1", "rack1");
        let labels = PodmCallLabels {
            podm: "p-1".into(),
            name: "rack1".into(),
            operation: "probe",
        };
        metrics.podm_duration.get_or_create(&labels).observe(0.1);
        metrics
            .podm_errors
            .get_or_create(&PodmErrorLabels {
                podm: "p-1".into(),
                name: "rack1".into(),
                operation: "probe",
                kind: "unreachable",
            })
            .inc();
        let before = encoded(&metrics);
        assert_eq!(
            value(
                &before,
                r#"valence_podm_request_errors_total{podm="p-1",name="rack1",operation="probe",kind="unreachable"}"#
            ),
            Some(1.0),
            "{before}"
        );
        metrics.forget_podm("p-1");
        let after = encoded(&metrics);
        assert!(!after.contains("p-1"), "{after}");
    }
}
