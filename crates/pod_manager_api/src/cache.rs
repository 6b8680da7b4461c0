//! One live connection per PODM uuid (moka), rebuilt when the PODM's configuration changes and
//! dropped on `invalidate`; evicted connections log their Redfish session out in the background.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use moka::notification::RemovalCause;

use crate::config::PodmConfig;
use crate::connection::Connection;
use crate::{PodManager, PodmError};

/// Connections by PODM uuid. Cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct ConnectionCache {
    connections: Cache<String, Arc<Connection>>,
}

impl std::fmt::Debug for ConnectionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionCache")
            .field("connections", &self.connections.entry_count())
            .finish()
    }
}

impl Default for ConnectionCache {
    fn default() -> Self {
        Self::new(10_000, Duration::from_secs(3600))
    }
}

impl ConnectionCache {
    /// At most `capacity` connections; one unused for `idle` is dropped (a PODM still registered
    /// simply reconnects on its next use).
    pub fn new(capacity: u64, idle: Duration) -> Self {
        let connections = Cache::builder()
            .max_capacity(capacity)
            .time_to_idle(idle)
            .eviction_listener(|uuid: Arc<String>, connection: Arc<Connection>, cause| {
                if cause == RemovalCause::Replaced && Arc::strong_count(&connection) > 1 {
                    tracing::debug!(podm = %uuid, "replaced connection still in use; its session ends when the last user drops it");
                }
                log_out_in_background(uuid, connection);
            })
            .build();
        Self { connections }
    }

    /// The connection of `config.uuid`; a new one when none is cached or the cached one was
    /// built from a different configuration (URL, credentials, TLS, driver, limits).
    ///
    /// Sends nothing: the PODM is first contacted by the first call on the connection.
    pub async fn get_or_connect(
        &self,
        config: &PodmConfig,
    ) -> Result<Arc<dyn PodManager>, PodmError> {
        Ok(self.connection(config).await?)
    }

    /// As [`ConnectionCache::get_or_connect`], with the concrete type.
    pub async fn connection(&self, config: &PodmConfig) -> Result<Arc<Connection>, PodmError> {
        if let Some(cached) = self.connections.get(&config.uuid).await {
            if cached.config().same_connection(config) {
                return Ok(cached);
            }
            tracing::info!(podm = %config.uuid, "PODM configuration changed; reconnecting");
            self.connections.invalidate(&config.uuid).await;
        }
        let fresh = config.clone();
        self.connections
            .try_get_with(config.uuid.clone(), async move {
                Connection::new(fresh).map(Arc::new)
            })
            .await
            .map_err(|e: Arc<PodmError>| (*e).clone())
    }

    /// Forgets the connection of a PODM that was updated or deleted (its session is logged out).
    pub async fn invalidate(&self, uuid: &str) {
        self.connections.invalidate(uuid).await;
    }

    /// Whether a connection is cached for `uuid`.
    pub fn contains(&self, uuid: &str) -> bool {
        self.connections.contains_key(uuid)
    }
}

/// Best effort: a failed logout only leaves a session for the PODM to expire.
fn log_out_in_background(uuid: Arc<String>, connection: Arc<Connection>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        if let Err(e) = connection.logout().await {
            tracing::debug!(podm = %uuid, error = %e, "logging out of an evicted connection failed");
        }
    });
}
