//! Vendor-neutral model of what a PODM offers: systems, composed nodes, requirements of a compose
//! request, and whether a system satisfies those requirements.
//!
//! These types are shared by the aggregator, the scheduler and the API; they carry no HTTP or
//! database detail. Requirements use the Valence flavor `properties` shape (snake_case) and
//! convert to the RSD Allocate body elsewhere (`rsd` module).

use serde::{Deserialize, Deserializer, Serialize};

/// What a compose request asks for: the Valence flavor `properties` shape.
///
/// Upstream Valence stored numbers as strings (`"total_cores": "8"`); both forms are accepted on
/// input, numbers are always produced on output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor: Option<ProcessorRequirement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryRequirement>,
    /// Local drives, each to be satisfied by a distinct drive of the system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<StorageRequirement>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorRequirement {
    /// Minimum number of cores of the whole system.
    #[serde(
        default,
        deserialize_with = "lenient_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_cores: Option<u32>,
    /// Case-insensitive substring of the processor model (`"Xeon"`, `"E5-2699"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Redfish `InstructionSet` (`x86-64`, `ARM-A64`, ...), compared case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_set: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRequirement {
    /// Minimum memory of the whole system, MiB.
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub capacity_mib: Option<u64>,
    /// Redfish `MemoryDeviceType` (`DDR4`, ...).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub memory_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageRequirement {
    /// Minimum capacity of one drive, GiB.
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub capacity_gib: Option<u64>,
    /// `HDD` or `SSD`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub drive_type: Option<String>,
}

/// A field of [`Requirements`] that failed validation, with the dotted path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidRequirement {
    pub field: String,
    pub reason: String,
}

impl Requirements {
    /// Checks values serde cannot: positive numbers, known drive types.
    pub fn validate(&self) -> Result<(), InvalidRequirement> {
        let invalid = |field: &str, reason: &str| InvalidRequirement {
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(p) = &self.processor {
            if p.total_cores == Some(0) {
                return Err(invalid("processor.total_cores", "must be at least 1"));
            }
            if p.model.as_deref().is_some_and(|m| m.trim().is_empty()) {
                return Err(invalid("processor.model", "must not be empty"));
            }
        }
        if let Some(m) = &self.memory
            && m.capacity_mib == Some(0)
        {
            return Err(invalid("memory.capacity_mib", "must be at least 1"));
        }
        for (i, s) in self.storage.iter().enumerate() {
            if s.capacity_gib == Some(0) {
                return Err(invalid(
                    &format!("storage[{i}].capacity_gib"),
                    "must be at least 1",
                ));
            }
            if let Some(t) = &s.drive_type
                && !t.eq_ignore_ascii_case("HDD")
                && !t.eq_ignore_ascii_case("SSD")
            {
                return Err(invalid(&format!("storage[{i}].type"), "must be HDD or SSD"));
            }
        }
        Ok(())
    }

    pub fn min_cores(&self) -> u32 {
        self.processor
            .as_ref()
            .and_then(|p| p.total_cores)
            .unwrap_or(0)
    }

    pub fn min_memory_mib(&self) -> u64 {
        self.memory
            .as_ref()
            .and_then(|m| m.capacity_mib)
            .unwrap_or(0)
    }
}

/// Accepts `8`, `"8"` or null for an optional count (upstream Valence flavors hold strings).
fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    lenient_u64(d)?
        .map(|v| u32::try_from(v).map_err(|_| serde::de::Error::custom("number too large")))
        .transpose()
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Num(u64),
        Text(String),
    }
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::Num(n)) => Ok(Some(n)),
        Some(NumOrText::Text(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("expected a non-negative whole number, got {s:?}"))
        }),
    }
}

/// One drive of a system, as far as placement cares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriveSummary {
    pub capacity_gib: u64,
    /// `HDD`, `SSD`, or what the PODM said.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub drive_type: Option<String>,
}

/// A computer system of a PODM, reduced to what listing and placement need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemSummary {
    /// The PODM's own id (`Id`, last path segment).
    pub system_id: String,
    /// `@odata.id` of the system on its PODM.
    pub resource_uri: String,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub description: Option<String>,
    /// Redfish `Status.Health` (`OK`, `Warning`, `Critical`) when reported.
    pub health: Option<String>,
    /// Redfish `PowerState` when reported.
    pub power_state: Option<String>,
    pub processor_count: u32,
    pub total_cores: u32,
    pub processor_model: Option<String>,
    /// Redfish `InstructionSet` of the processors (`x86-64`, ...).
    pub instruction_set: Option<String>,
    pub memory_mib: u64,
    pub memory_type: Option<String>,
    #[serde(default)]
    pub drives: Vec<DriveSummary>,
    /// MAC addresses of the system's Ethernet interfaces.
    #[serde(default)]
    pub mac_addresses: Vec<String>,
    /// Chassis (drawer / rack) path when known.
    pub location: Option<String>,
    /// `@odata.id` of the composed node that uses this system, when one does.
    pub composed_node: Option<String>,
}

/// Why a system does not satisfy a request: the requirement's field and the shortfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub field: &'static str,
    pub detail: String,
}

impl SystemSummary {
    /// Free means not part of a composed node and not reported failed.
    pub fn is_free(&self) -> bool {
        self.composed_node.is_none()
            && !self
                .health
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case("Critical"))
    }

    /// Whether this system alone satisfies `req`; the first unmet requirement otherwise.
    pub fn satisfies(&self, req: &Requirements) -> Result<(), Mismatch> {
        if let Some(p) = &req.processor {
            if let Some(cores) = p.total_cores
                && self.total_cores < cores
            {
                return Err(Mismatch {
                    field: "processor.total_cores",
                    detail: format!("{} cores < {cores}", self.total_cores),
                });
            }
            if let Some(model) = &p.model
                && !contains_ignore_case(self.processor_model.as_deref(), model)
            {
                return Err(Mismatch {
                    field: "processor.model",
                    detail: format!(
                        "model {:?} does not match {model:?}",
                        self.processor_model.as_deref().unwrap_or("unknown")
                    ),
                });
            }
            if let Some(set) = &p.instruction_set
                && !self
                    .instruction_set
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(set))
            {
                return Err(Mismatch {
                    field: "processor.instruction_set",
                    detail: format!(
                        "instruction set {:?} is not {set:?}",
                        self.instruction_set.as_deref().unwrap_or("unknown")
                    ),
                });
            }
        }
        if let Some(m) = &req.memory {
            if let Some(mib) = m.capacity_mib
                && self.memory_mib < mib
            {
                return Err(Mismatch {
                    field: "memory.capacity_mib",
                    detail: format!("{} MiB < {mib} MiB", self.memory_mib),
                });
            }
            if let Some(t) = &m.memory_type
                && !contains_ignore_case(self.memory_type.as_deref(), t)
            {
                return Err(Mismatch {
                    field: "memory.type",
                    detail: format!(
                        "memory type {:?} is not {t:?}",
                        self.memory_type.as_deref().unwrap_or("unknown")
                    ),
                });
            }
        }
        self.satisfies_storage(&req.storage)
    }

    /// Each requested drive needs a distinct drive. Drive types make this a bipartite matching
    /// (a greedy choice can give an untyped request the only SSD a typed request needs), so a
    /// request that finds no free drive tries to move earlier requests along augmenting paths.
    fn satisfies_storage(&self, wanted: &[StorageRequirement]) -> Result<(), Mismatch> {
        // The scheduler checks every free system of every PODM: the common cases of no or one
        // requested drive allocate nothing.
        match wanted {
            [] => return Ok(()),
            [one] if self.drives.iter().any(|d| drive_fits(one, d)) => return Ok(()),
            [one] => return Err(storage_mismatch(one)),
            _ => {}
        }
        // Largest requests first, so a failure names the hardest request to place.
        let mut order: Vec<&StorageRequirement> = wanted.iter().collect();
        order.sort_by_key(|w| std::cmp::Reverse(w.capacity_gib.unwrap_or(0)));
        let mut owner: Vec<Option<usize>> = vec![None; self.drives.len()];
        let mut visited = vec![false; self.drives.len()];
        for request in 0..order.len() {
            visited.fill(false);
            if !assign_drive(request, &order, &self.drives, &mut owner, &mut visited) {
                return Err(storage_mismatch(order[request]));
            }
        }
        Ok(())
    }
}

fn storage_mismatch(want: &StorageRequirement) -> Mismatch {
    Mismatch {
        field: "storage",
        detail: format!(
            "no free drive of at least {} GiB{}",
            want.capacity_gib.unwrap_or(0),
            want.drive_type
                .as_deref()
                .map(|t| format!(" of type {t}"))
                .unwrap_or_default()
        ),
    }
}

fn drive_fits(want: &StorageRequirement, drive: &DriveSummary) -> bool {
    drive.capacity_gib >= want.capacity_gib.unwrap_or(0)
        && want.drive_type.as_deref().is_none_or(|t| {
            drive
                .drive_type
                .as_deref()
                .is_some_and(|dt| dt.eq_ignore_ascii_case(t))
        })
}

/// Kuhn's augmenting path step: gives `request` a drive, moving other requests to other drives
/// when that frees one. Recursion depth is bounded by the number of requested drives.
fn assign_drive(
    request: usize,
    wanted: &[&StorageRequirement],
    drives: &[DriveSummary],
    owner: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for (d, drive) in drives.iter().enumerate() {
        if visited[d] || !drive_fits(wanted[request], drive) {
            continue;
        }
        visited[d] = true;
        let free = match owner[d] {
            None => true,
            Some(other) => assign_drive(other, wanted, drives, owner, visited),
        };
        if free {
            owner[d] = Some(request);
            return true;
        }
    }
    false
}

/// Allocation-free for ASCII (every model and memory type seen so far); full Unicode
/// lowercasing otherwise.
fn contains_ignore_case(haystack: Option<&str>, needle: &str) -> bool {
    let Some(haystack) = haystack else {
        return false;
    };
    if haystack.is_ascii() && needle.is_ascii() {
        let needle = needle.as_bytes();
        return needle.is_empty()
            || haystack
                .as_bytes()
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle));
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// RSD `ComposedNodeState`; unknown values are kept rather than rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComposedNodeState {
    Allocating,
    Allocated,
    Assembling,
    Assembled,
    Failed,
    Other(String),
}

impl ComposedNodeState {
    /// Reads a state; case and surrounding blanks are forgiven.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        for known in [
            Self::Allocating,
            Self::Allocated,
            Self::Assembling,
            Self::Assembled,
            Self::Failed,
        ] {
            if known.as_str().eq_ignore_ascii_case(s) {
                return known;
            }
        }
        Self::Other(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Allocating => "Allocating",
            Self::Allocated => "Allocated",
            Self::Assembling => "Assembling",
            Self::Assembled => "Assembled",
            Self::Failed => "Failed",
            Self::Other(s) => s,
        }
    }

    /// Assembly is over and succeeded: `Assembled`, or a power state some PODMs report in its
    /// place once the node exists (`PoweredOff`, `PoweredOn`, as upstream Valence saw).
    pub fn is_assembled(&self) -> bool {
        match self {
            Self::Assembled => true,
            Self::Other(s) => POWER_LIKE_STATES.iter().any(|p| p.eq_ignore_ascii_case(s)),
            _ => false,
        }
    }

    /// Assembly has not finished yet (allocating, allocated, assembling).
    pub fn is_in_progress(&self) -> bool {
        matches!(self, Self::Allocating | Self::Allocated | Self::Assembling)
    }
}

/// States seen after assembly on real PODMs that are not in the RSD enumeration.
const POWER_LIKE_STATES: [&str; 6] = [
    "PoweredOff",
    "PoweredOn",
    "PowerOff",
    "PowerOn",
    "On",
    "Off",
];

/// A composed node as listed by a PODM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposedNodeSummary {
    /// The PODM's node id (`Id`), Valence's `index`.
    pub index: String,
    /// `@odata.id` of the node on its PODM.
    pub resource_uri: String,
    pub name: Option<String>,
    /// Carries the Valence tag of nodes Valence composed ([`tag_marker`]).
    #[serde(default)]
    pub description: Option<String>,
    pub uuid: Option<String>,
    pub state: ComposedNodeState,
    pub power_state: Option<String>,
    /// `@odata.id` of the system the node runs on.
    pub system_uri: Option<String>,
    /// Resources attached to the node (`Links.RemoteDrives`, `Links.LocalDrives`): what a
    /// device sync compares with its records.
    #[serde(default)]
    pub attached: Vec<String>,
}

/// The text Valence puts in a composed node's description so that it can find the node again
/// after a crash between the allocation and its own bookkeeping.
pub fn tag_marker(tag: &str) -> String {
    format!("[valence:{tag}]")
}

impl ComposedNodeSummary {
    /// Whether this node carries Valence's tag `tag` ([`tag_marker`]).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.description
            .as_deref()
            .is_some_and(|d| d.contains(&tag_marker(tag)))
    }
}

/// A rack (a chassis of type `Rack`) and the systems in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RackSummary {
    pub rack_id: String,
    pub resource_uri: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    /// RSD `Oem.Intel_RackScale.Location.Id` (the rack's place in the pod) when given.
    pub location: Option<String>,
    pub health: Option<String>,
    /// `Links.ComputerSystems`: systems in the rack when the PODM lists them here.
    #[serde(default)]
    pub systems: Vec<String>,
    /// `Links.Contains`: drawers and other chassis inside.
    #[serde(default)]
    pub contains: Vec<String>,
}

/// A pooled device a PODM can attach to a composed node (RSD fabric endpoint targets: NVMe
/// drives, volumes, FPGAs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub device_id: String,
    /// What to pass to attach / detach: the target resource (a drive or volume) when the
    /// endpoint names one, the endpoint itself otherwise.
    pub resource_uri: String,
    /// The fabric endpoint the device is reached through.
    pub endpoint_uri: String,
    pub name: Option<String>,
    /// `Drive`, `Volume`, `Processor`... (`ConnectedEntities[].EntityType`, or the kind of
    /// resource the link names).
    pub device_type: Option<String>,
    /// `EndpointProtocol` (`PCIe`, `NVMeOverFabrics`).
    pub protocol: Option<String>,
    pub health: Option<String>,
    pub state: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(cores: u32, mem_mib: u64, drives: &[(u64, &str)]) -> SystemSummary {
        SystemSummary {
            system_id: "s1".into(),
            resource_uri: "/redfish/v1/Systems/s1".into(),
            name: None,
            uuid: None,
            description: None,
            health: Some("OK".into()),
            power_state: Some("Off".into()),
            processor_count: 2,
            total_cores: cores,
            processor_model: Some("Intel(R) Xeon(R) CPU E5-2699 v4".into()),
            instruction_set: Some("x86-64".into()),
            memory_mib: mem_mib,
            memory_type: Some("DDR4".into()),
            drives: drives
                .iter()
                .map(|(c, t)| DriveSummary {
                    capacity_gib: *c,
                    drive_type: Some((*t).into()),
                })
                .collect(),
            mac_addresses: vec![],
            location: None,
            composed_node: None,
        }
    }

    #[test]
    fn accepts_numbers_and_numeric_strings() {
        let r: Requirements = serde_json::from_str(
            r#"{"processor":{"total_cores":"8","model":"Xeon"},"memory":{"capacity_mib":16384,"type":"DDR4"}}"#,
        )
        .unwrap();
        assert_eq!(r.min_cores(), 8);
        assert_eq!(r.min_memory_mib(), 16384);
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["processor"]["total_cores"], 8);
    }

    #[test]
    fn rejects_unknown_fields_and_bad_numbers() {
        let err = serde_json::from_str::<Requirements>(r#"{"processor":{"cores":8}}"#).unwrap_err();
        assert!(err.to_string().contains("cores"), "{err}");
        let err = serde_json::from_str::<Requirements>(r#"{"memory":{"capacity_mib":"lots"}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("lots"), "{err}");
        let err = serde_json::from_str::<Requirements>(r#"{"memory":{"capacity_mib":-1}}"#);
        assert!(err.is_err());
    }

    #[test]
    fn validate_names_the_field() {
        let r: Requirements =
            serde_json::from_str(r#"{"storage":[{"capacity_gib":10},{"type":"tape"}]}"#).unwrap();
        assert_eq!(r.validate().unwrap_err().field, "storage[1].type");
        let r: Requirements = serde_json::from_str(r#"{"processor":{"total_cores":0}}"#).unwrap();
        assert_eq!(r.validate().unwrap_err().field, "processor.total_cores");
    }

    #[test]
    fn satisfies_checks_each_requirement() {
        let s = system(16, 65536, &[(500, "SSD"), (2000, "HDD")]);
        let ok: Requirements = serde_json::from_str(
            r#"{"processor":{"total_cores":16,"model":"e5-2699","instruction_set":"X86-64"},"memory":{"capacity_mib":65536},"storage":[{"capacity_gib":400,"type":"ssd"},{"capacity_gib":1000}]}"#,
        )
        .unwrap();
        assert_eq!(s.satisfies(&ok), Ok(()));

        let too_many_cores: Requirements =
            serde_json::from_str(r#"{"processor":{"total_cores":17}}"#).unwrap();
        assert_eq!(
            s.satisfies(&too_many_cores).unwrap_err().field,
            "processor.total_cores"
        );
        let wrong_model: Requirements =
            serde_json::from_str(r#"{"processor":{"model":"EPYC"}}"#).unwrap();
        assert_eq!(
            s.satisfies(&wrong_model).unwrap_err().field,
            "processor.model"
        );
        let too_much_memory: Requirements =
            serde_json::from_str(r#"{"memory":{"capacity_mib":65537}}"#).unwrap();
        assert_eq!(
            s.satisfies(&too_much_memory).unwrap_err().field,
            "memory.capacity_mib"
        );
    }

    #[test]
    fn storage_needs_distinct_drives() {
        let s = system(4, 1024, &[(500, "SSD"), (100, "SSD")]);
        let two_big: Requirements =
            serde_json::from_str(r#"{"storage":[{"capacity_gib":200},{"capacity_gib":300}]}"#)
                .unwrap();
        assert_eq!(s.satisfies(&two_big).unwrap_err().field, "storage");
        // the small request must not take the big drive the large request needs
        let mixed: Requirements =
            serde_json::from_str(r#"{"storage":[{"capacity_gib":50},{"capacity_gib":400}]}"#)
                .unwrap();
        assert_eq!(s.satisfies(&mixed), Ok(()));
        let one: Requirements =
            serde_json::from_str(r#"{"storage":[{"capacity_gib":400,"type":"ssd"}]}"#).unwrap();
        assert_eq!(s.satisfies(&one), Ok(()));
        let one_too_big: Requirements =
            serde_json::from_str(r#"{"storage":[{"capacity_gib":600,"type":"SSD"}]}"#).unwrap();
        assert_eq!(
            s.satisfies(&one_too_big).unwrap_err().detail,
            "no free drive of at least 600 GiB of type SSD"
        );
    }

    #[test]
    fn storage_matching_respects_drive_types() {
        // the untyped request must leave the only SSD to the SSD request
        let s = system(4, 1024, &[(100, "SSD"), (150, "HDD")]);
        let r: Requirements = serde_json::from_str(
            r#"{"storage":[{"capacity_gib":100},{"capacity_gib":50,"type":"SSD"}]}"#,
        )
        .unwrap();
        assert_eq!(s.satisfies(&r), Ok(()));
        let three: Requirements = serde_json::from_str(
            r#"{"storage":[{"capacity_gib":100},{"capacity_gib":50,"type":"SSD"},{"type":"HDD"}]}"#,
        )
        .unwrap();
        assert_eq!(s.satisfies(&three).unwrap_err().field, "storage");
    }

    #[test]
    fn substring_match_ignores_case() {
        assert!(contains_ignore_case(Some("Intel(R) Xeon(R) E5"), "xEoN"));
        assert!(contains_ignore_case(Some("Xeon"), ""));
        assert!(!contains_ignore_case(Some("Xe"), "Xeon"));
        assert!(!contains_ignore_case(None, "Xeon"));
        assert!(contains_ignore_case(Some("ÜBER Xeon"), "über"));
    }

    #[test]
    fn composed_or_critical_systems_are_not_free() {
        let mut s = system(4, 1024, &[]);
        assert!(s.is_free());
        s.health = Some("Critical".into());
        assert!(!s.is_free());
        s.health = Some("OK".into());
        s.composed_node = Some("/redfish/v1/Nodes/1".into());
        assert!(!s.is_free());
    }
}
