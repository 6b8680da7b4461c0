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

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::config::AuthType;

    fn config(password: &str) -> PodmConfig {
        PodmConfig::new("podm-1", "http://127.0.0.1:9").with_credentials(
            AuthType::Basic,
            "admin",
            SecretString::from(password.to_owned()),
        )
    }

    #[tokio::test]
    async fn one_connection_per_podm_until_its_configuration_changes() {
        let cache = ConnectionCache::default();
        let a = cache.connection(&config("one")).await.unwrap();
        let again = cache.connection(&config("one")).await.unwrap();
        assert!(
            Arc::ptr_eq(&a, &again),
            "same configuration, same connection"
        );

        let changed = cache.connection(&config("two")).await.unwrap();
        assert!(
            !Arc::ptr_eq(&a, &changed),
            "a new password never reuses the old connection"
        );
        let mut moved = config("two");
        moved.url = "http://127.0.0.1:10".into();
        let moved_conn = cache.connection(&moved).await.unwrap();
        assert!(!Arc::ptr_eq(&changed, &moved_conn));

        assert!(cache.contains("podm-1"));
        cache.invalidate("podm-1").await;
        assert!(!cache.contains("podm-1"));
        let fresh = cache.connection(&moved).await.unwrap();
        assert!(!Arc::ptr_eq(&moved_conn, &fresh));
    }

    #[tokio::test]
    async fn an_unusable_configuration_is_an_error_naming_the_setting() {
        let cache = ConnectionCache::default();
        let mut bad = config("x");
        bad.url = "https://podm/some/prefix".into();
        let Err(err) = cache.get_or_connect(&bad).await else {
            panic!("a path prefix must be refused");
        };
        assert!(matches!(err, PodmError::Unreachable { .. }));
        assert!(err.to_string().contains("url"), "{err}");
        assert!(!cache.contains("podm-1"));
    }
}
