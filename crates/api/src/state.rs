//! What every handler can reach: the database, the connections to PODMs, the aggregator, and
//! the settings they run with.

use std::sync::Arc;
use std::time::Duration;

use valence_pod_manager_api::{ConnectionCache, PodmConfig};
use valence_redfish::{Aggregator, AggregatorConfig};

/// Most PODM connections kept; far above any fleet so registered PODMs are never evicted.
const CONNECTION_CAPACITY: u64 = 100_000;
/// A connection unused this long is closed (its session logged out); the background refresh
/// keeps every registered PODM's connection in use.
const CONNECTION_IDLE: Duration = Duration::from_secs(30 * 60);

/// Tunables of the API layer; `bin/valence` fills them from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Budget of one HTTP call to a PODM (retries included).
    pub podm_request_timeout: Duration,
    pub podm_connect_timeout: Duration,
    /// How long a compose may wait for the PODM to assemble the node.
    pub compose_timeout: Duration,
    /// Budget of a probe made while registering or updating a PODM.
    pub probe_timeout: Duration,
    /// How long a system's hardware details are reused between inventory reads (zero: never).
    pub details_ttl: Duration,
    pub aggregator: AggregatorConfig,
    /// Placement policy of the scheduler.
    pub policy: valence_scheduler::Policy,
    /// Used in links when a request carries no `Host` header.
    pub public_host: String,
    pub public_scheme: &'static str,
    /// Requests served at once; more are answered 503 at once.
    pub max_concurrent_requests: usize,
    /// How long a rendered `GET /v1/pod_managers` answer is reused (dropped at once by any
    /// write through this server); zero renders every request.
    pub list_cache_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            podm_request_timeout: Duration::from_secs(10),
            podm_connect_timeout: Duration::from_secs(3),
            compose_timeout: Duration::from_secs(600),
            probe_timeout: Duration::from_secs(5),
            details_ttl: Duration::from_secs(600),
            aggregator: AggregatorConfig::default(),
            policy: valence_scheduler::Policy::Spread,
            public_host: "127.0.0.1:8181".into(),
            public_scheme: "http",
            max_concurrent_requests: 1024,
            list_cache_ttl: Duration::from_secs(1),
        }
    }
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: valence_db::Db,
    pub connections: Arc<ConnectionCache>,
    pub aggregator: Arc<Aggregator>,
    pub settings: Arc<Settings>,
    /// Compose and release work that outlives the request that started it.
    pub tasks: tokio_util::task::TaskTracker,
    pub auth: crate::auth::Authenticator,
    /// Seals PODM passwords at rest.
    pub secrets: Arc<crate::secrets::SecretBox>,
    /// Rendered answers of hot lists, dropped by every write.
    pub rendered: Arc<crate::rendered::RenderedCache>,
    /// This server process, as recorded on the work it drives (a fresh id at every start).
    pub instance_id: String,
    /// Prometheus metrics of this server (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.db.backend())
            .field("settings", &self.settings)
            .finish()
    }
}

impl AppState {
    pub fn new(db: valence_db::Db, settings: Settings) -> Self {
        Self {
            db,
            connections: Arc::new(ConnectionCache::new(CONNECTION_CAPACITY, CONNECTION_IDLE)),
            aggregator: Arc::new(Aggregator::new(settings.aggregator.clone())),
            rendered: Arc::new(crate::rendered::RenderedCache::new(settings.list_cache_ttl)),
            settings: Arc::new(settings),
            tasks: tokio_util::task::TaskTracker::new(),
            auth: crate::auth::Authenticator::default(),
            secrets: Arc::new(crate::secrets::SecretBox::default()),
            instance_id: uuid::Uuid::new_v4().to_string(),
            metrics: Arc::new(crate::metrics::Metrics::new()),
        }
    }

    /// Records into `metrics` (made before the database, whose pool reports into it too).
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Seals PODM passwords with `secrets` from now on.
    pub fn with_secrets(mut self, secrets: crate::secrets::SecretBox) -> Self {
        self.secrets = Arc::new(secrets);
        self
    }

    /// Requires the tokens of `auth` on every request but the open probes.
    pub fn with_auth(mut self, auth: crate::auth::Authenticator) -> Self {
        self.auth = auth;
        self
    }

    /// Applies the API's timeouts to a PODM configuration.
    pub fn with_timeouts(&self, mut config: PodmConfig) -> PodmConfig {
        config.request_timeout = self.settings.podm_request_timeout;
        config.connect_timeout = self.settings.podm_connect_timeout;
        config.compose_timeout = self.settings.compose_timeout;
        config.details_ttl = self.settings.details_ttl;
        config
    }
}
