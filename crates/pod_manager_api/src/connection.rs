//! One connection to one PODM: its HTTP clients, its service root read on first use (and again
//! by every probe), and the driver chosen from the configuration or the root.
//!
//! Building a [`Connection`] touches no network, so a PODM that is down still has a connection
//! whose `probe` can tell when it is back. The service root is read lazily and kept; a probe
//! that finds a different root (a PODM upgraded in place) rebuilds the driver.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::RwLock;
use valence_http_client::{DEFAULT_SESSIONS_PATH, PodmClient};

use crate::config::{AuthType, Driver, PodmConfig, SERVICE_ROOT};
use crate::generic::GenericPodm;
use crate::reader::{DetailCache, Reader};
use crate::root::ServiceRoot;
use crate::rsd::RsdPodm;
use crate::{
    ComposeObserver, ComposeRequest, ComposedNodeSummary, DeviceSummary, PodManager, PodmError,
    ProbeInfo, RackSummary, SystemSummary,
};

/// What a driver needs: the reader (client and `$expand` support), the root, and deadlines.
pub(crate) struct Service {
    pub reader: Reader,
    pub root: ServiceRoot,
    /// The service root's URL, for errors about it.
    pub root_url: String,
    pub compose_timeout: Duration,
    pub cleanup_timeout: Duration,
}

impl Service {
    /// A system path from an id (`1`) or a path (`/redfish/v1/Systems/1`) of this service.
    pub fn system_uri(&self, system_id: &str) -> Result<String, PodmError> {
        let systems = self.root.systems(&self.root_url)?;
        let id = system_id.trim();
        if id.starts_with('/') || id.contains("://") {
            let uri = crate::doc::normalize_link(id);
            return if uri.starts_with(&format!("{systems}/")) {
                Ok(uri)
            } else {
                Err(PodmError::NotFound { uri })
            };
        }
        if id.is_empty() || id.contains(['/', '?', '#']) {
            return Err(PodmError::NotFound {
                uri: format!("{systems}/{id}"),
            });
        }
        Ok(format!("{systems}/{id}"))
    }
}

/// The driver in use and the client carrying its session, if any.
#[derive(Clone)]
struct Backend {
    root: ServiceRoot,
    podm: Arc<dyn PodManager>,
    session_client: Option<PodmClient>,
}

/// A live connection to one PODM; implements [`PodManager`] by handing each call to the
/// driver chosen for it.
pub struct Connection {
    config: PodmConfig,
    /// Basic credentials (or none): reads the service root, and serves every request unless a
    /// session is configured and offered.
    basic_client: PodmClient,
    backend: RwLock<Option<Backend>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A connection to the PODM of `config`, not cached (see [`crate::ConnectionCache`]). Nothing is
/// sent until the first call.
pub fn connect(config: &PodmConfig) -> Result<Arc<dyn PodManager>, PodmError> {
    Ok(Arc::new(Connection::new(config.clone())?))
}

fn config_error(e: impl std::fmt::Display) -> PodmError {
    PodmError::Unreachable {
        detail: format!("the PODM's configuration cannot work: {e}"),
    }
}

impl Connection {
    /// Checks the configuration and prepares the HTTP client (TLS included); sends nothing.
    pub fn new(config: PodmConfig) -> Result<Self, PodmError> {
        config.validate().map_err(config_error)?;
        let client_config = config
            .client_config(config.basic_auth())
            .map_err(config_error)?;
        let basic_client = PodmClient::new(client_config)?;
        Ok(Self {
            config,
            basic_client,
            backend: RwLock::new(None),
        })
    }

    pub fn config(&self) -> &PodmConfig {
        &self.config
    }

    /// Ends the Redfish session, if one is open (the next call logs in again).
    pub async fn logout(&self) -> Result<(), PodmError> {
        let session = self
            .backend
            .read()
            .await
            .as_ref()
            .and_then(|b| b.session_client.clone());
        if let Some(client) = session {
            client.logout().await?;
        }
        Ok(())
    }

    /// The driver, reading the service root first if it has not been read yet.
    async fn backend(&self) -> Result<Backend, PodmError> {
        if let Some(backend) = self.backend.read().await.as_ref() {
            return Ok(backend.clone());
        }
        self.refresh().await
    }

    /// Reads the service root; keeps the driver when the root is unchanged, rebuilds it otherwise.
    async fn refresh(&self) -> Result<Backend, PodmError> {
        let response = self.basic_client.get(SERVICE_ROOT).await?;
        let document = crate::doc::decode(&response.url, &response.body)?;
        let root = ServiceRoot::parse(&response.url, &document)?;
        let mut slot = self.backend.write().await;
        if let Some(current) = slot.as_ref()
            && current.root == root
        {
            return Ok(current.clone());
        }
        let backend = self.build_backend(root, response.url)?;
        *slot = Some(backend.clone());
        Ok(backend)
    }

    fn build_backend(&self, root: ServiceRoot, root_url: String) -> Result<Backend, PodmError> {
        let driver = self.config.driver.unwrap_or_else(|| root.detect_driver());
        let session_client = match self.config.auth_type {
            AuthType::Session if root.offers_sessions() => {
                let path = root.sessions.as_deref().unwrap_or(DEFAULT_SESSIONS_PATH);
                let auth = self.config.session_auth(path).ok_or_else(|| {
                    config_error("session authentication needs a username and password")
                })?;
                let client_config = self.config.client_config(auth).map_err(config_error)?;
                Some(PodmClient::new(client_config)?)
            }
            AuthType::Session => {
                tracing::warn!(podm = %self.config.uuid, "session authentication configured but the service root offers no sessions; using Basic");
                None
            }
            _ => None,
        };
        let client = session_client
            .clone()
            .unwrap_or_else(|| self.basic_client.clone());
        let svc = Service {
            reader: Reader {
                client,
                expand: root.expand,
                system_concurrency: self.config.max_concurrent,
                details: Arc::new(DetailCache::new(self.config.details_ttl)),
            },
            root: root.clone(),
            root_url,
            compose_timeout: self.config.compose_timeout,
            cleanup_timeout: self.config.cleanup_timeout,
        };
        let podm: Arc<dyn PodManager> = match driver {
            Driver::Rsd => Arc::new(RsdPodm { svc }),
            Driver::Redfish => Arc::new(GenericPodm { svc }),
        };
        tracing::debug!(podm = %self.config.uuid, %driver, "PODM driver ready");
        Ok(Backend {
            root,
            podm,
            session_client,
        })
    }
}

#[async_trait]
impl PodManager for Connection {
    /// Always reads the service root afresh (this is the health check).
    async fn probe(&self) -> Result<ProbeInfo, PodmError> {
        self.refresh().await?.podm.probe().await
    }
    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError> {
        self.backend().await?.podm.list_systems().await
    }
    async fn inventory(&self) -> Result<(Vec<SystemSummary>, Vec<ComposedNodeSummary>), PodmError> {
        self.backend().await?.podm.inventory().await
    }
    async fn get_system(&self, system_id: &str) -> Result<SystemSummary, PodmError> {
        self.backend().await?.podm.get_system(system_id).await
    }
    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError> {
        self.backend().await?.podm.list_nodes().await
    }
    async fn get_node(&self, resource_uri: &str) -> Result<ComposedNodeSummary, PodmError> {
        self.backend().await?.podm.get_node(resource_uri).await
    }
    async fn compose(
        &self,
        request: &ComposeRequest,
        observer: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, PodmError> {
        self.backend().await?.podm.compose(request, observer).await
    }
    async fn delete_node(&self, resource_uri: &str) -> Result<(), PodmError> {
        self.backend().await?.podm.delete_node(resource_uri).await
    }
    async fn reset_node(&self, resource_uri: &str, reset_type: &str) -> Result<(), PodmError> {
        self.backend()
            .await?
            .podm
            .reset_node(resource_uri, reset_type)
            .await
    }
    async fn set_boot_source(
        &self,
        resource_uri: &str,
        enabled: &str,
        target: &str,
    ) -> Result<(), PodmError> {
        self.backend()
            .await?
            .podm
            .set_boot_source(resource_uri, enabled, target)
            .await
    }
    async fn list_racks(&self) -> Result<Vec<RackSummary>, PodmError> {
        self.backend().await?.podm.list_racks().await
    }
    async fn list_devices(&self) -> Result<Vec<DeviceSummary>, PodmError> {
        self.backend().await?.podm.list_devices().await
    }
    async fn attach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        self.backend()
            .await?
            .podm
            .attach_device(node_uri, device_uri)
            .await
    }
    async fn detach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        self.backend()
            .await?
            .podm
            .detach_device(node_uri, device_uri)
            .await
    }
}
