//! Choosing the system for an Allocate request, the way an RSD PODM does: the free systems go
//! through a chain of filters (status, pinned resources, chassis, processors, memory, local
//! drives, Ethernet interfaces) and the best fitting survivor is taken. When none survives, the
//! count after each filter is what the PODM's 409 body reports.
//!
//! Each list entry of the request (`Processors[]`, `Memory[]`, `LocalDrives[]`,
//! `EthernetInterfaces[]`) needs a distinct part of the system; that is a bipartite matching,
//! solved exactly with augmenting paths (the lists are a few entries long).
//! `Model` matches as a case-insensitive substring (as Valence's own scheduler does), numbers
//! as minimums, other strings exactly (case-insensitively).

use serde::Deserialize;
use serde_json::Value;

use crate::inventory::{Inventory, SystemSpec};
use crate::state::{Health, PodState};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OdataRef {
    #[serde(rename = "@odata.id")]
    pub(crate) id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProcessorOem {
    #[serde(rename = "Brand")]
    brand: Option<String>,
    #[serde(rename = "Capabilities", default)]
    capabilities: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProcessorReq {
    #[serde(rename = "Model")]
    model: Option<String>,
    #[serde(rename = "TotalCores")]
    total_cores: Option<f64>,
    #[serde(rename = "AchievableSpeedMHz")]
    achievable_speed_mhz: Option<f64>,
    #[serde(rename = "InstructionSet")]
    instruction_set: Option<String>,
    #[serde(rename = "ProcessorType")]
    processor_type: Option<String>,
    #[serde(rename = "Oem")]
    oem: Option<ProcessorOem>,
    #[serde(rename = "Resource")]
    resource: Option<OdataRef>,
    #[serde(rename = "Chassis")]
    chassis: Option<OdataRef>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MemoryReq {
    #[serde(rename = "CapacityMiB")]
    capacity_mib: Option<f64>,
    #[serde(rename = "MemoryDeviceType")]
    memory_device_type: Option<String>,
    #[serde(rename = "SpeedMHz")]
    speed_mhz: Option<f64>,
    #[serde(rename = "Manufacturer")]
    manufacturer: Option<String>,
    #[serde(rename = "DataWidthBits")]
    data_width_bits: Option<f64>,
    #[serde(rename = "Resource")]
    resource: Option<OdataRef>,
    #[serde(rename = "Chassis")]
    chassis: Option<OdataRef>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DriveReq {
    #[serde(rename = "CapacityGiB")]
    capacity_gib: Option<f64>,
    #[serde(rename = "Type")]
    media: Option<String>,
    #[serde(rename = "MinRPM")]
    min_rpm: Option<f64>,
    #[serde(rename = "SerialNumber")]
    serial_number: Option<String>,
    #[serde(rename = "Interface")]
    interface: Option<String>,
    #[serde(rename = "Resource")]
    resource: Option<OdataRef>,
    #[serde(rename = "Chassis")]
    chassis: Option<OdataRef>,
    #[serde(rename = "FabricSwitch")]
    fabric_switch: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NicReq {
    #[serde(rename = "SpeedMbps")]
    speed_mbps: Option<f64>,
    #[serde(rename = "Resource")]
    resource: Option<OdataRef>,
    #[serde(rename = "Chassis")]
    chassis: Option<OdataRef>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SecurityReq {
    #[serde(rename = "TpmPresent")]
    tpm_present: Option<bool>,
    #[serde(rename = "TpmInterfaceType")]
    tpm_interface_type: Option<String>,
    #[serde(rename = "ClearTPMOnDelete")]
    pub(crate) clear_tpm_on_delete: Option<bool>,
}

/// An Allocate body that passed schema validation.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AllocateRequest {
    #[serde(rename = "Name")]
    pub(crate) name: Option<String>,
    #[serde(rename = "Description")]
    pub(crate) description: Option<String>,
    #[serde(rename = "Processors", default)]
    processors: Vec<ProcessorReq>,
    #[serde(rename = "Memory", default)]
    memory: Vec<MemoryReq>,
    #[serde(rename = "RemoteDrives", default)]
    remote_drives: Vec<Value>,
    #[serde(rename = "LocalDrives", default)]
    local_drives: Vec<DriveReq>,
    #[serde(rename = "EthernetInterfaces", default)]
    ethernet_interfaces: Vec<NicReq>,
    #[serde(rename = "TotalSystemCoreCount")]
    total_cores: Option<f64>,
    #[serde(rename = "TotalSystemMemoryMiB")]
    total_memory_mib: Option<f64>,
    #[serde(rename = "Security")]
    pub(crate) security: Option<SecurityReq>,
}

/// Why no system was chosen: the remaining count after each filter, and an extra reason when a
/// filter is not about systems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub(crate) counts: Vec<(&'static str, usize)>,
    pub(crate) reason: Option<String>,
}

impl Conflict {
    /// The PODM's own wording: `[available: 3 -> status: 3 -> ... -> ethernet interfaces: 0]`.
    pub(crate) fn filter_summary(&self) -> String {
        let steps: Vec<String> = self
            .counts
            .iter()
            .map(|(name, n)| format!("{name}: {n}"))
            .collect();
        format!(
            "Available assets count after applying filters: [{}]",
            steps.join(" -> ")
        )
    }
}

/// The system for `req`, or the conflict explaining why there is none.
pub(crate) fn choose_system(
    inventory: &Inventory,
    state: &PodState,
    req: &AllocateRequest,
) -> Result<usize, Conflict> {
    let mut counts = Vec::with_capacity(8);
    let mut left: Vec<&SystemSpec> = inventory
        .systems
        .iter()
        .filter(|s| state.system_node[s.index].is_none())
        .collect();
    counts.push(("available", left.len()));

    left.retain(|s| state.system_health[s.index] != Health::Critical && security_fits(req));
    counts.push(("status", left.len()));

    left.retain(|s| owns_pinned_resources(s, req));
    counts.push(("resource", left.len()));

    left.retain(|s| chassis_refs(req).all(|c| s.is_in_chassis(c)));
    counts.push(("chassis", left.len()));

    left.retain(|s| {
        req.total_cores
            .is_none_or(|c| c <= f64::from(s.total_cores()))
            && assignable(req.processors.len(), s.sockets as usize, |r, k| {
                cpu_fits(s, k as u32 + 1, &req.processors[r])
            })
    });
    counts.push(("processors", left.len()));

    left.retain(|s| {
        req.total_memory_mib
            .is_none_or(|m| m <= s.memory_mib() as f64)
            && assignable(req.memory.len(), s.dimms as usize, |r, k| {
                dimm_fits(s, k as u32 + 1, &req.memory[r])
            })
    });
    counts.push(("memory", left.len()));

    left.retain(|s| {
        assignable(req.local_drives.len(), s.drives.len(), |r, k| {
            drive_fits(s, k + 1, &req.local_drives[r])
        })
    });
    counts.push(("local drives", left.len()));

    left.retain(|s| {
        assignable(req.ethernet_interfaces.len(), s.nics as usize, |r, k| {
            nic_fits(s, k as u32 + 1, &req.ethernet_interfaces[r])
        })
    });
    counts.push(("ethernet interfaces", left.len()));

    if !req.remote_drives.is_empty() {
        return Err(Conflict {
            counts,
            reason: Some(
                "Remote drives cannot be allocated: attach pooled drives to the composed node instead."
                    .to_owned(),
            ),
        });
    }
    left.into_iter()
        .min_by_key(|s| {
            let drive_gib: u64 = s.drives.iter().map(|d| d.capacity_gib).sum();
            (s.total_cores(), s.memory_mib(), drive_gib, s.index)
        })
        .map(|s| s.index)
        .ok_or(Conflict {
            counts,
            reason: None,
        })
}

/// Every system has a TPM 2.0 module and TXT support, so only an explicit other TPM type or a
/// request for no TPM can fail.
fn security_fits(req: &AllocateRequest) -> bool {
    req.security.as_ref().is_none_or(|sec| {
        sec.tpm_present.is_none_or(|present| present)
            && sec
                .tpm_interface_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("TPM2_0"))
    })
}

fn chassis_refs(req: &AllocateRequest) -> impl Iterator<Item = &str> {
    let p = req.processors.iter().map(|p| &p.chassis);
    let m = req.memory.iter().map(|m| &m.chassis);
    let d = req.local_drives.iter().map(|d| &d.chassis);
    let n = req.ethernet_interfaces.iter().map(|n| &n.chassis);
    p.chain(m)
        .chain(d)
        .chain(n)
        .filter_map(|c| c.as_ref().and_then(|c| c.id.as_deref()))
}

/// Whether every `Resource` the request pins is a part of `s` of the right kind.
fn owns_pinned_resources(s: &SystemSpec, req: &AllocateRequest) -> bool {
    req.processors
        .iter()
        .filter_map(|p| pinned(&p.resource))
        .all(|id| (1..=s.sockets).any(|k| s.processor_odata_id(k) == id))
        && req
            .memory
            .iter()
            .filter_map(|m| pinned(&m.resource))
            .all(|id| (1..=s.dimms).any(|k| s.dimm_odata_id(k) == id))
        && req
            .local_drives
            .iter()
            .filter_map(|d| pinned(&d.resource))
            .all(|id| (1..=s.drives.len()).any(|k| s.drive_odata_id(k) == id))
        && req
            .ethernet_interfaces
            .iter()
            .filter_map(|n| pinned(&n.resource))
            .all(|id| (1..=s.nics).any(|k| s.nic_odata_id(k) == id))
}

fn pinned(resource: &Option<OdataRef>) -> Option<&str> {
    resource
        .as_ref()
        .and_then(|r| r.id.as_deref())
        .map(trim_slash)
}

fn trim_slash(s: &str) -> &str {
    s.trim_end_matches('/')
}

fn pinned_to(resource: &Option<OdataRef>, odata_id: &str) -> bool {
    resource
        .as_ref()
        .and_then(|r| r.id.as_deref())
        .is_none_or(|id| trim_slash(id) == odata_id)
}

fn in_chassis(s: &SystemSpec, chassis: &Option<OdataRef>) -> bool {
    chassis
        .as_ref()
        .and_then(|c| c.id.as_deref())
        .is_none_or(|c| s.is_in_chassis(c))
}

fn same(wanted: &Option<String>, actual: &str) -> bool {
    wanted
        .as_deref()
        .is_none_or(|w| w.eq_ignore_ascii_case(actual))
}

fn at_most(wanted: Option<f64>, actual: f64) -> bool {
    wanted.is_none_or(|w| w <= actual)
}

fn cpu_fits(s: &SystemSpec, n: u32, req: &ProcessorReq) -> bool {
    let cpu = s.cpu;
    at_most(req.total_cores, f64::from(cpu.cores))
        && at_most(req.achievable_speed_mhz, f64::from(cpu.max_speed_mhz))
        && req
            .model
            .as_deref()
            .is_none_or(|m| cpu.model.to_lowercase().contains(&m.to_lowercase()))
        && same(&req.instruction_set, cpu.instruction_set)
        && same(&req.processor_type, "CPU")
        && req.oem.as_ref().is_none_or(|oem| {
            same(&oem.brand, cpu.brand)
                && oem.capabilities.iter().all(|c| {
                    cpu.capabilities
                        .iter()
                        .any(|have| have.eq_ignore_ascii_case(c))
                })
        })
        && pinned_to(&req.resource, &s.processor_odata_id(n))
        && in_chassis(s, &req.chassis)
}

fn dimm_fits(s: &SystemSpec, n: u32, req: &MemoryReq) -> bool {
    at_most(req.capacity_mib, s.dimm_mib as f64)
        && at_most(req.speed_mhz, f64::from(s.cpu.memory_speed_mhz))
        && req.data_width_bits.is_none_or(|w| w == 64.0)
        && same(&req.memory_device_type, s.cpu.memory_device_type)
        && same(&req.manufacturer, s.dimm_manufacturer)
        && pinned_to(&req.resource, &s.dimm_odata_id(n))
        && in_chassis(s, &req.chassis)
}

fn drive_fits(s: &SystemSpec, n: usize, req: &DriveReq) -> bool {
    let Some(drive) = s.drives.get(n - 1) else {
        return false;
    };
    at_most(req.capacity_gib, drive.capacity_gib as f64)
        && req
            .min_rpm
            .is_none_or(|rpm| rpm <= 0.0 || drive.rpm.is_some_and(|have| rpm <= f64::from(have)))
        && same(&req.media, drive.media.as_str())
        && same(&req.interface, drive.protocol)
        && req
            .serial_number
            .as_deref()
            .is_none_or(|sn| sn == s.drive_serial(n))
        // local drives are not behind a fabric switch
        && req.fabric_switch.is_none_or(|f| !f)
        && pinned_to(&req.resource, &s.drive_odata_id(n))
        && in_chassis(s, &req.chassis)
}

fn nic_fits(s: &SystemSpec, n: u32, req: &NicReq) -> bool {
    at_most(req.speed_mbps, f64::from(s.nic_speed_mbps))
        && pinned_to(&req.resource, &s.nic_odata_id(n))
        && in_chassis(s, &req.chassis)
}

/// Whether each of `requests` can get its own item among `items`, where `fits(r, i)` says
/// whether item `i` satisfies request `r` (Kuhn's augmenting paths).
fn assignable(requests: usize, items: usize, fits: impl Fn(usize, usize) -> bool) -> bool {
    if requests > items {
        return false;
    }
    let mut owner: Vec<Option<usize>> = vec![None; items];
    (0..requests).all(|r| {
        let mut seen = vec![false; items];
        augment(r, &fits, &mut owner, &mut seen)
    })
}

fn augment(
    r: usize,
    fits: &impl Fn(usize, usize) -> bool,
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for i in 0..owner.len() {
        if seen[i] || !fits(r, i) {
            continue;
        }
        seen[i] = true;
        let current = owner[i];
        if current.is_none_or(|other| augment(other, fits, owner, seen)) {
            owner[i] = Some(r);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::inventory;
    use serde_json::json;

    fn request(v: Value) -> AllocateRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn matching_finds_an_assignment_greedy_order_would_miss() {
        // request 0 fits items 0 and 1, request 1 only item 0
        let fits = |r: usize, i: usize| matches!((r, i), (0, 0) | (0, 1) | (1, 0));
        assert!(assignable(2, 2, fits));
        assert!(!assignable(2, 2, |r, i| i == 0 && r < 2));
        assert!(!assignable(3, 2, |_, _| true));
        assert!(assignable(0, 0, |_, _| false));
    }

    #[test]
    fn empty_request_takes_the_smallest_free_system() {
        let inv = inventory(3, 16);
        let st = PodState::new(16, 3);
        let chosen = choose_system(&inv, &st, &AllocateRequest::default()).unwrap();
        let smallest = inv.systems.iter().map(|s| s.total_cores()).min().unwrap();
        assert_eq!(inv.systems[chosen].total_cores(), smallest);
    }

    #[test]
    fn core_and_memory_minimums_are_respected() {
        let inv = inventory(5, 32);
        let st = PodState::new(32, 5);
        let max_cores = inv.systems.iter().map(|s| s.total_cores()).max().unwrap();
        let req = request(json!({"TotalSystemCoreCount": max_cores}));
        let chosen = choose_system(&inv, &st, &req).unwrap();
        assert_eq!(inv.systems[chosen].total_cores(), max_cores);
        let req = request(json!({"TotalSystemCoreCount": max_cores + 1}));
        let conflict = choose_system(&inv, &st, &req).unwrap_err();
        assert_eq!(conflict.counts[4], ("processors", 0));
        assert_eq!(conflict.counts[0], ("available", 32));
        assert!(conflict.filter_summary().starts_with(
            "Available assets count after applying filters: [available: 32 -> status: 32"
        ));
    }

    #[test]
    fn processor_fields_filter() {
        let inv = inventory(9, 64);
        let st = PodState::new(64, 9);
        let arm = request(json!({"Processors": [{"InstructionSet": "ARM-A64"}]}));
        let chosen = choose_system(&inv, &st, &arm).unwrap();
        assert_eq!(inv.systems[chosen].cpu.instruction_set, "ARM-A64");
        let model = request(json!({"Processors": [{"Model": "gold 6148", "TotalCores": 20}]}));
        let chosen = choose_system(&inv, &st, &model).unwrap();
        assert!(inv.systems[chosen].cpu.model.contains("Gold 6148"));
        let two_sockets = request(json!({"Processors": [{"TotalCores": 2}, {"TotalCores": 2}]}));
        let chosen = choose_system(&inv, &st, &two_sockets).unwrap();
        assert_eq!(inv.systems[chosen].sockets, 2);
        let e7 = request(json!({"Processors": [{"Oem": {"Brand": "E7"}}]}));
        assert!(choose_system(&inv, &st, &e7).is_err());
    }

    #[test]
    fn drives_need_distinct_matches_and_pins_are_honoured() {
        let inv = inventory(11, 64);
        let st = PodState::new(64, 11);
        let s = inv.systems.iter().find(|s| s.drives.len() >= 2).unwrap();
        let pinned =
            request(json!({"LocalDrives": [{"Resource": {"@odata.id": s.drive_odata_id(2)}}]}));
        assert_eq!(choose_system(&inv, &st, &pinned).unwrap(), s.index);
        let biggest = inv
            .systems
            .iter()
            .flat_map(|s| s.drives.iter().map(|d| d.capacity_gib))
            .max()
            .unwrap();
        let too_big = request(json!({"LocalDrives": [{"CapacityGiB": biggest + 1}]}));
        let conflict = choose_system(&inv, &st, &too_big).unwrap_err();
        assert_eq!(conflict.counts[6], ("local drives", 0));
        let chassis = request(
            json!({"Processors": [{"Chassis": {"@odata.id": "/redfish/v1/Chassis/Drawer2"}}]}),
        );
        assert_eq!(
            inv.systems[choose_system(&inv, &st, &chassis).unwrap()].drawer,
            2
        );
    }

    #[test]
    fn used_and_critical_systems_are_skipped() {
        let inv = inventory(2, 2);
        let mut st = PodState::new(2, 2);
        st.system_node[0] = Some(1);
        st.system_health[1] = Health::Critical;
        let conflict = choose_system(&inv, &st, &AllocateRequest::default()).unwrap_err();
        assert_eq!(&conflict.counts[..2], &[("available", 1), ("status", 0)]);
    }
}
