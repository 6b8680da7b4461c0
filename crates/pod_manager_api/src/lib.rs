//! The `PodManager` trait (one connection per PODM), its RSD 2.x implementation and the connection cache.

pub mod error;
pub mod model;

use async_trait::async_trait;

pub use error::PodmError;
pub use model::*;

/// What a PODM is and can do, read once from its service root.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeInfo {
    /// `rsd` or `redfish` (DESIGN.md §3: detected from the service root).
    pub driver: String,
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
    pub pooled_devices: bool,
    pub attach_detach: bool,
}

/// What to compose: the node's name and description, and the requirements.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposeRequest {
    pub name: String,
    pub description: Option<String>,
    pub requirements: Requirements,
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
#[async_trait]
pub trait PodManager: Send + Sync {
    /// Reads the service root: driver, versions, capabilities.
    async fn probe(&self) -> Result<ProbeInfo, PodmError>;
    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError>;
    async fn get_system(&self, system_id: &str) -> Result<SystemSummary, PodmError>;
    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError>;
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
}
