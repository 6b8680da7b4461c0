//! The `PodManager` trait (one connection per PODM), its RSD 2.x and generic Redfish
//! implementations, and the connection cache.
//!
//! Entry points: build a [`PodmConfig`] from the PODM's database row, then
//! [`ConnectionCache::get_or_connect`] (or [`connect`] for a one-off) gives an
//! `Arc<dyn PodManager>`. The driver (`rsd` or `redfish`) is taken from the configuration or
//! detected from the service root on first use ([`ServiceRoot::detect_driver`]).

mod allocate;
mod cache;
mod config;
mod connection;
mod dmtf;
mod doc;
pub mod error;
mod generic;
pub mod model;
mod ops;
pub mod parse;
mod reader;
mod root;
mod rsd;

use async_trait::async_trait;

pub use allocate::{allocate_body, description_with_tag};
pub use cache::ConnectionCache;
pub use config::{
    AuthType, Driver, InvalidPodmConfig, PodmConfig, SERVICE_ROOT, normalize_base_url,
    normalize_base_url_text,
};
pub use connection::{Connection, connect};
pub use error::PodmError;
pub use model::*;
pub use root::{Expand, RsdVersion, ServiceRoot};

/// What a PODM is and can do, read once from its service root.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeInfo {
    /// `rsd` or `redfish` (DESIGN.md §3: detected from the service root unless configured).
    pub driver: Driver,
    /// Service root `UUID`.
    pub service_uuid: Option<String>,
    pub redfish_version: Option<String>,
    /// `Oem.Intel_RackScale.ApiVersion` (RSD only).
    pub rsd_api_version: Option<String>,
    pub capabilities: Capabilities,
}

/// Named capabilities and quirks of a PODM, detected once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// Offers an Allocate (RSD) or Compose (DMTF) action.
    pub compose: bool,
    pub sessions: bool,
    /// Uses RSD 1.x spellings (`Oem."Intel:RackScale"`, `@DMTF.AllowableValues`).
    pub rsd1_spellings: bool,
    /// Lists fabric endpoints (pooled devices).
    pub pooled_devices: bool,
    /// Composed nodes can have devices attached and detached.
    pub attach_detach: bool,
    /// Collections can be read with their members inline (`$expand`).
    pub expand: bool,
}

/// What to compose: the node's name and description, and the requirements.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposeRequest {
    pub name: String,
    pub description: Option<String>,
    pub requirements: Requirements,
    /// Put in the node's description ([`tag_marker`]) so Valence can find the node after a
    /// crash: the Valence node uuid.
    pub tag: Option<String>,
}

/// Observer of compose steps, so a caller can record each before the next PODM call.
#[async_trait]
pub trait ComposeObserver: Send + Sync {
    /// The PODM accepted the allocation; `node` exists on the PODM from now on.
    async fn allocated(&self, node: &ComposedNodeSummary) -> Result<(), PodmError>;
    /// Assembly was requested.
    async fn assembling(&self, node: &ComposedNodeSummary) -> Result<(), PodmError>;
}

/// One live connection to one PODM. Object-safe: used as `Arc<dyn PodManager>`.
///
/// Node and system arguments are the PODM's `@odata.id` paths (`resource_uri`); `get_system`
/// also takes a bare system id.
#[async_trait]
pub trait PodManager: Send + Sync {
    /// Reads the service root: driver, versions, capabilities.
    async fn probe(&self) -> Result<ProbeInfo, PodmError>;
    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError>;
    async fn get_system(&self, system_id: &str) -> Result<SystemSummary, PodmError>;
    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError>;
    /// Systems and composed nodes together, as one inventory read. Drivers that need the nodes
    /// to tell which systems are in use read them once for both.
    async fn inventory(&self) -> Result<(Vec<SystemSummary>, Vec<ComposedNodeSummary>), PodmError> {
        futures::try_join!(self.list_systems(), self.list_nodes())
    }
    async fn get_node(&self, resource_uri: &str) -> Result<ComposedNodeSummary, PodmError>;
    /// Allocate, assemble, wait for `Assembled` within the connection's deadline. On any failure
    /// after allocation the node is deleted on the PODM before the error is returned.
    async fn compose(
        &self,
        request: &ComposeRequest,
        observer: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, PodmError>;
    async fn delete_node(&self, resource_uri: &str) -> Result<(), PodmError>;
    async fn reset_node(&self, resource_uri: &str, reset_type: &str) -> Result<(), PodmError>;
    async fn set_boot_source(
        &self,
        resource_uri: &str,
        enabled: &str,
        target: &str,
    ) -> Result<(), PodmError>;
    /// Chassis of type `Rack`.
    async fn list_racks(&self) -> Result<Vec<RackSummary>, PodmError> {
        Err(PodmError::unsupported("listing racks"))
    }
    /// Pooled devices (fabric endpoint targets).
    async fn list_devices(&self) -> Result<Vec<DeviceSummary>, PodmError> {
        Err(PodmError::unsupported("pooled devices"))
    }
    /// Attaches a pooled device (its `resource_uri` from [`PodManager::list_devices`]) to a node.
    async fn attach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        let _ = (node_uri, device_uri);
        Err(PodmError::unsupported("attaching devices"))
    }
    async fn detach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        let _ = (node_uri, device_uri);
        Err(PodmError::unsupported("detaching devices"))
    }
}
