//! What the scheduler answers: ranked candidates or the reason every PODM was removed; these
//! types are the JSON of a compose dry run and of a 409 body, so their field names are a contract.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::input::PodmStatus;

/// The scheduler's decision for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Placement {
    /// At least one PODM can take the request; try `candidates` in order (never empty).
    Ranked {
        candidates: Vec<Candidate>,
        rejected: Vec<Rejection>,
    },
    /// No PODM passed the filters; one entry per PODM of the snapshot, sorted by name then uuid.
    NoValidPodm { rejected: Vec<Rejection> },
    /// The request named a PODM uuid that is not in the snapshot.
    UnknownPodm { podm_uuid: String },
}

impl Placement {
    /// Candidates best first; empty unless [`Placement::Ranked`].
    pub fn candidates(&self) -> &[Candidate] {
        match self {
            Placement::Ranked { candidates, .. } => candidates,
            Placement::NoValidPodm { .. } | Placement::UnknownPodm { .. } => &[],
        }
    }

    /// PODMs removed by a filter, sorted by name then uuid.
    pub fn rejected(&self) -> &[Rejection] {
        match self {
            Placement::Ranked { rejected, .. } | Placement::NoValidPodm { rejected } => rejected,
            Placement::UnknownPodm { .. } => &[],
        }
    }
}

/// A PODM that can take the request, with what ranked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// 1 for the first PODM to try.
    pub rank: usize,
    pub podm_uuid: String,
    pub podm_name: String,
    /// `Online`, or `Unknown` (ranked after every `Online` candidate).
    pub status: PodmStatus,
    /// Spread: `free / total` systems; pack: `1 - free / total`. Higher is better; ties are
    /// broken as the crate documentation says, so equal scores can have different ranks.
    pub score: f64,
    pub systems: SystemCounts,
    /// Sum of the cores of the free systems.
    pub cores_free: u64,
    /// Sum of the memory of the free systems, MiB.
    pub memory_free_mib: u64,
    /// `resource_uri` of the free system that fits the request best (a hint: the PODM chooses).
    pub best_fit: String,
}

/// System counts of one PODM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemCounts {
    pub total: usize,
    /// Not composed and not critical.
    pub free: usize,
}

/// The filter that removed a PODM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    RequestedPodm,
    State,
    Health,
    Capability,
    Capacity,
}

impl Filter {
    /// The name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::RequestedPodm => "requested_podm",
            Filter::State => "state",
            Filter::Health => "health",
            Filter::Capability => "capability",
            Filter::Capacity => "capacity",
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PODM removed by a filter, and why in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub podm_uuid: String,
    pub podm_name: String,
    pub filter: Filter,
    /// For example `cordoned`, `offline`, or for capacity
    /// `none of 12 free systems (32 in all) fits; nearest miss /redfish/v1/Systems/7:
    /// memory.capacity_mib: 32768 MiB < 65536 MiB`.
    pub reason: String,
    /// The figures behind a `capacity` rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityShortfall>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}: {}",
            self.podm_name, self.podm_uuid, self.filter, self.reason
        )
    }
}

/// Why no system of a PODM fits, in figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityShortfall {
    pub systems_total: usize,
    pub systems_free: usize,
    /// Absent when no system is free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest_miss: Option<NearestMiss>,
}

/// The free system that came closest to the request, and its first unmet requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearestMiss {
    pub resource_uri: String,
    /// Dotted requirement field, as in `Mismatch::field` (`memory.capacity_mib`).
    pub field: String,
    /// The shortfall (`32768 MiB < 65536 MiB`).
    pub detail: String,
}
