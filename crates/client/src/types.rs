//! Request and response bodies of the REST API: the wire contract, shared by the server (`api`)
//! and its clients. Field names follow upstream OpenStack Valence (`podm_id`, `auth_items`,
//! bare arrays for lists).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use valence_pod_manager_api::Requirements;

/// What a masked password reads as in every response.
pub const MASKED_PASSWORD: &str = "********";

// ---------------------------------------------------------------- pod managers

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthItems {
    pub username: String,
    /// Write-only: responses carry `"********"`.
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    /// `basic` (HTTP Basic on every request) or `session` (Redfish session, `X-Auth-Token`).
    #[serde(rename = "type")]
    pub auth_type: String,
    pub auth_items: AuthItems,
}

/// `POST /v1/pod_managers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PodManagerCreate {
    pub name: String,
    /// Base URL (`https://host:port`); `/redfish/v1` is appended when missing.
    pub url: String,
    /// `rsd` or `redfish`; detected from the service root when absent. `redfishv1` means `rsd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default)]
    pub authentication: Vec<Authentication>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Verify the PODM's TLS certificate (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    /// PEM of the CA (or the certificate itself) the PODM's certificate is checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

/// `PATCH /v1/pod_managers/{uuid}`: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PodManagerUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Vec<Authentication>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `active` or `cordoned` (`deleting` is set by Valence only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PodManagerUsage {
    pub systems_total: u32,
    pub systems_free: u32,
    /// Composed nodes on the PODM, whoever made them.
    pub nodes_total: u32,
    /// Nodes Valence made (or adopted) on this PODM, from Valence's records.
    pub nodes_valence: u64,
    pub cores_total: u64,
    pub cores_free: u64,
    pub memory_total_mib: u64,
    pub memory_free_mib: u64,
    /// Share of systems in use, 0.0 to 1.0.
    pub ratio: f64,
    /// False when the figures could not be read (PODM offline); they are zero then.
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PodManager {
    pub uuid: String,
    pub name: String,
    pub url: String,
    pub driver: String,
    /// `Online`, `Offline` or `Unknown`.
    pub status: String,
    /// `active`, `cordoned` or `deleting`.
    pub state: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub authentication: Vec<Authentication>,
    pub tls_verify: bool,
    /// Whether a CA certificate is pinned for this PODM (the PEM itself is not returned).
    pub ca_cert_pinned: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    #[schema(value_type = Object)]
    pub capabilities: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub usage: PodManagerUsage,
}

/// `DELETE /v1/pod_managers/{uuid}?dry_run=true`: what a delete would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PodManagerDeletePlan {
    pub podm_id: String,
    /// Whether the delete would go ahead as asked (`release` given or no Valence-made node).
    pub would_delete: bool,
    /// Valence-made nodes on the PODM: refused without `release=true`, decomposed with it.
    pub nodes: Vec<NodeRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeRef {
    pub uuid: String,
    pub name: String,
    pub state: String,
}

// ---------------------------------------------------------------- nodes

/// `POST /v1/nodes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeCompose {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The PODM to compose on; the scheduler picks one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub podm_id: Option<String>,
    /// A flavor's uuid (or name); exclusive with `properties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Requirements>,
}

/// `POST /v1/nodes/manage`: adopt a node composed outside Valence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeManage {
    /// The PODM's node id (`Id`) or its `@odata.id`.
    pub node_index: String,
    pub podm_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetAction {
    #[serde(rename = "Type")]
    pub reset_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BootAction {
    /// `Once`, `Continuous` or `Disabled`.
    #[serde(rename = "Enabled")]
    pub enabled: String,
    /// `Pxe`, `Hdd`, `RemoteDrive`, `None`, ... as the node allows.
    #[serde(rename = "Target")]
    pub target: String,
}

/// Attach or detach a pooled device (`/v1/devices`) of the node's PODM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceAction {
    pub device_id: String,
}

/// `POST /v1/nodes/{uuid}/action`: exactly one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub enum NodeAction {
    Reset(ResetAction),
    Boot(BootAction),
    Attach(DeviceAction),
    Detach(DeviceAction),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Node {
    pub uuid: String,
    pub name: String,
    pub description: Option<String>,
    pub podm_id: String,
    /// The PODM's node id.
    pub index: Option<String>,
    pub resource_uri: Option<String>,
    /// `allocating`, `assembling`, `ready`, `failed` or `deleting`.
    pub state: String,
    pub flavor_id: Option<String>,
    /// `valence` (composed by Valence) or `user` (adopted with `nodes/manage`).
    pub managed_by: String,
    #[schema(value_type = Option<Object>)]
    pub requirements: Option<Requirements>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/nodes/{uuid}`: the record plus what the PODM reports now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NodeDetail {
    #[serde(flatten)]
    pub node: Node,
    /// Absent when the PODM could not be asked; `podm_error` says why.
    pub power_state: Option<String>,
    pub composed_node_state: Option<String>,
    pub system: Option<System>,
    pub podm_error: Option<String>,
}

// ---------------------------------------------------------------- systems

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Cpu {
    pub count: u32,
    pub cores: u32,
    pub arch: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Drive {
    pub capacity_gib: u64,
    #[serde(rename = "type")]
    pub drive_type: Option<String>,
}

/// A computer system of some PODM, tagged with that PODM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct System {
    /// Unique across PODMs: `<podm uuid>:<system id>`.
    pub id: String,
    /// The PODM's own id of the system.
    pub system_id: String,
    pub podm_id: String,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub description: Option<String>,
    pub health: Option<String>,
    pub power_state: Option<String>,
    pub cpu: Cpu,
    /// Memory in GiB, as upstream Valence reports it.
    pub ram: f64,
    pub ram_mib: u64,
    pub storage: Vec<Drive>,
    /// MAC addresses.
    pub network: Vec<String>,
    pub location: Option<String>,
    pub resource_uri: String,
    /// Not part of a composed node.
    pub free: bool,
}

// ---------------------------------------------------------------- flavors

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlavorCreate {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub properties: Requirements,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlavorUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Requirements>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Flavor {
    pub uuid: String,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub properties: Requirements,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// ---------------------------------------------------------------- devices

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Device {
    pub uuid: String,
    pub podm_id: String,
    pub node_id: Option<String>,
    #[serde(rename = "type")]
    pub device_type: String,
    pub state: String,
    pub resource_uri: String,
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /v1/devices/sync`: what changed per PODM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceSyncReport {
    pub podm_id: String,
    pub added: u32,
    pub updated: u32,
    pub removed: u32,
    pub error: Option<String>,
}
