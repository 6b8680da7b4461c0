//! What the scheduler is given: a borrowed view of every PODM and one placement request.

use serde::{Deserialize, Serialize};
use valence_pod_manager_api::{Requirements, SystemSummary};

/// Administrative state of a PODM (`pod_managers.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PodmState {
    Active,
    /// Kept, but receives no new nodes.
    Cordoned,
    /// Being removed; never chosen.
    Deleting,
}

/// Health status of a PODM as last checked (`pod_managers.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PodmStatus {
    Online,
    Offline,
    /// Not checked yet; passes the health filter but ranks after every `Online` PODM.
    Unknown,
}

/// One PODM as the scheduler sees it. Borrows everything, so building a snapshot of a thousand
/// PODMs copies no inventory: the caller keeps the rows and inventories alive for the call.
#[derive(Debug, Clone, Copy)]
pub struct PodmSnapshot<'a> {
    /// Unique across the snapshot (the `pod_managers` primary key).
    pub uuid: &'a str,
    pub name: &'a str,
    pub state: PodmState,
    pub status: PodmStatus,
    /// Whether the PODM offers a compose action (`Capabilities::compose`).
    pub can_compose: bool,
    /// The PODM's systems as last read, composed ones included.
    pub systems: &'a [SystemSummary],
}

/// How to rank the PODMs that pass the filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Prefer the PODM with the largest share of free systems.
    #[default]
    Spread,
    /// Prefer the fullest PODM that still fits.
    Pack,
}

/// Where to compose: the requirements (a flavor's properties or the request's own), an optional
/// PODM chosen by the caller, and the ranking policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementRequest {
    pub requirements: Requirements,
    /// When set, only this PODM is considered (compared exactly: the caller normalises uuids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub podm_uuid: Option<String>,
    #[serde(default)]
    pub policy: Policy,
}
