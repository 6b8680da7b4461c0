//! Redfish and RSD documents turned into Valence's model, one pure function per resource type.
//!
//! Every function takes the URL the document came from (for errors) and the decoded JSON.
//! Optional data that is missing or malformed is left out; only what a caller cannot do
//! without is required (a node's `ComposedNodeState`).

use serde_json::Value;

use crate::PodmError;
use crate::doc::{
    at, count, health, last_segment, link, links, normalize_link, number, rackscale_oem, text,
};
use crate::model::{
    ComposedNodeState, ComposedNodeSummary, DeviceSummary, DriveSummary, RackSummary, SystemSummary,
};

const BYTES_PER_GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Decodes a Redfish document; an error names `url` and where the JSON broke.
pub fn document(url: &str, body: &[u8]) -> Result<Value, PodmError> {
    crate::doc::decode(url, body)
}

/// The member links of a collection document (`Members[].@odata.id`); `Members` is required.
pub fn collection_members(url: &str, doc: &Value) -> Result<Vec<String>, PodmError> {
    let members = doc
        .get("Members")
        .and_then(Value::as_array)
        .ok_or_else(|| PodmError::missing(url, "Members"))?;
    Ok(members.iter().filter_map(|m| link(Some(m))).collect())
}

/// The target of an action of a resource (`#ComposedNodeCollection.Allocate`), if offered.
pub fn action_target(doc: &Value, action: &str) -> Option<String> {
    crate::doc::action(doc, action).map(|(target, _)| target)
}

/// Allowable values of an action parameter given inline (`@Redfish` or RSD 1.x `@DMTF`).
pub fn action_allowable_values(doc: &Value, action: &str, parameter: &str) -> Option<Vec<String>> {
    let (_, object) = crate::doc::action(doc, action)?;
    crate::doc::allowable_values(object, parameter)
}

/// A computer system document, before its processors, memory, NICs and drives are read.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemDoc {
    pub resource_uri: String,
    pub system_id: String,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub description: Option<String>,
    pub health: Option<String>,
    pub power_state: Option<String>,
    /// `SystemType` (`Physical`, `Composed`, `Logical`...).
    pub system_type: Option<String>,
    pub summary_processor_count: Option<u32>,
    pub summary_processor_model: Option<String>,
    /// `ProcessorSummary.CoreCount` (Redfish 2020.3 and later).
    pub summary_cores: Option<u32>,
    pub summary_memory_gib: Option<f64>,
    pub processors: Option<String>,
    pub memory: Option<String>,
    pub ethernet_interfaces: Option<String>,
    pub storage: Option<String>,
    pub simple_storage: Option<String>,
    pub chassis: Option<String>,
    /// `Links.Oem.Intel_RackScale.ComposedNode`, where a PODM names the node using the system.
    pub composed_node: Option<String>,
}

fn small(value: Option<u64>) -> Option<u32> {
    value.map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

/// The resource's own path: its `@odata.id`, else the URL it was read from.
fn own_uri(url: &str, doc: &Value) -> String {
    link(doc.get("@odata.id")).unwrap_or_else(|| normalize_link(url))
}

/// Its `Id`, else the last segment of its path.
fn own_id(uri: &str, doc: &Value) -> String {
    text(doc.get("Id")).unwrap_or_else(|| last_segment(uri))
}

pub fn system(url: &str, doc: &Value) -> SystemDoc {
    let resource_uri = own_uri(url, doc);
    SystemDoc {
        system_id: own_id(&resource_uri, doc),
        name: text(doc.get("Name")),
        uuid: text(doc.get("UUID")),
        description: text(doc.get("Description")),
        health: health(doc),
        power_state: text(doc.get("PowerState")),
        system_type: text(doc.get("SystemType")),
        summary_processor_count: small(count(at(doc, &["ProcessorSummary", "Count"]))),
        summary_processor_model: text(at(doc, &["ProcessorSummary", "Model"])),
        summary_cores: small(count(at(doc, &["ProcessorSummary", "CoreCount"]))),
        summary_memory_gib: number(at(doc, &["MemorySummary", "TotalSystemMemoryGiB"])),
        processors: link(doc.get("Processors")),
        memory: link(doc.get("Memory")),
        ethernet_interfaces: link(doc.get("EthernetInterfaces")),
        storage: link(doc.get("Storage")),
        simple_storage: link(doc.get("SimpleStorage")),
        chassis: links(at(doc, &["Links", "Chassis"]))
            .into_iter()
            .next()
            .or_else(|| link(at(doc, &["Links", "Chassis"]))),
        composed_node: doc
            .get("Links")
            .and_then(rackscale_oem)
            .and_then(|o| link(o.get("ComposedNode"))),
        resource_uri,
    }
}

/// What placement needs of one processor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessorDoc {
    pub cores: Option<u32>,
    pub model: Option<String>,
    pub instruction_set: Option<String>,
    /// A CPU (or of unknown type); GPUs, FPGAs and accelerators do not count as cores.
    pub is_cpu: bool,
}

pub fn processor(_url: &str, doc: &Value) -> ProcessorDoc {
    ProcessorDoc {
        cores: small(count(doc.get("TotalCores"))),
        model: text(doc.get("Model")),
        instruction_set: text(doc.get("InstructionSet")),
        is_cpu: text(doc.get("ProcessorType")).is_none_or(|t| t.eq_ignore_ascii_case("CPU")),
    }
}

/// What placement needs of one memory module.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DimmDoc {
    pub capacity_mib: Option<u64>,
    pub device_type: Option<String>,
}

pub fn memory(_url: &str, doc: &Value) -> DimmDoc {
    DimmDoc {
        capacity_mib: count(doc.get("CapacityMiB")),
        device_type: text(doc.get("MemoryDeviceType")),
    }
}

/// The MAC address of an Ethernet interface (`MACAddress`, else `PermanentMACAddress`).
pub fn ethernet_mac(_url: &str, doc: &Value) -> Option<String> {
    text(doc.get("MACAddress")).or_else(|| text(doc.get("PermanentMACAddress")))
}

/// A drive: `CapacityBytes` (Redfish) or `CapacityGiB` (RSD 1.x, RSD local drives); the type
/// from `MediaType`, else `Type` when that says HDD or SSD.
pub fn drive(_url: &str, doc: &Value) -> DriveSummary {
    DriveSummary {
        capacity_gib: capacity_gib(doc),
        drive_type: drive_type(doc),
    }
}

fn capacity_gib(doc: &Value) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let from_bytes = number(doc.get("CapacityBytes")).map(|b| (b / BYTES_PER_GIB) as u64);
    from_bytes
        .or_else(|| count(doc.get("CapacityGiB")))
        .unwrap_or(0)
}

fn drive_type(doc: &Value) -> Option<String> {
    text(doc.get("MediaType")).or_else(|| {
        text(doc.get("Type"))
            .filter(|t| t.eq_ignore_ascii_case("HDD") || t.eq_ignore_ascii_case("SSD"))
    })
}

/// The drive links of a `Storage` resource.
pub fn storage_drives(_url: &str, doc: &Value) -> Vec<String> {
    links(doc.get("Drives"))
}

/// The devices of a `SimpleStorage` resource (inline, no further requests).
pub fn simple_storage(_url: &str, doc: &Value) -> Vec<DriveSummary> {
    doc.get("Devices")
        .and_then(Value::as_array)
        .map(|devices| {
            devices
                .iter()
                .filter(|d| {
                    // An empty bay is listed with State Absent.
                    text(at(d, &["Status", "State"]))
                        .is_none_or(|s| !s.eq_ignore_ascii_case("Absent"))
                })
                .map(|d| drive("", d))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything read about one system, reduced to a [`SystemSummary`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemParts {
    pub processors: Vec<ProcessorDoc>,
    pub dimms: Vec<DimmDoc>,
    pub mac_addresses: Vec<String>,
    pub drives: Vec<DriveSummary>,
    pub composed_node: Option<String>,
}

/// Cores are the sum of the CPUs' `TotalCores` (`ProcessorSummary.CoreCount` when no CPU was
/// read); memory is `MemorySummary.TotalSystemMemoryGiB` (the sum of the modules when that is
/// absent or zero); model, instruction set and memory type come from the first module saying.
pub fn summarize(system: SystemDoc, parts: SystemParts) -> SystemSummary {
    let cpus: Vec<&ProcessorDoc> = parts.processors.iter().filter(|p| p.is_cpu).collect();
    // Saturating: a PODM reporting absurd figures must read as huge, never wrap to small.
    let cores_of_cpus = cpus
        .iter()
        .filter_map(|p| p.cores)
        .fold(0u32, u32::saturating_add);
    let total_cores = if cores_of_cpus > 0 {
        cores_of_cpus
    } else {
        system.summary_cores.unwrap_or(0)
    };
    let processor_count = if cpus.is_empty() {
        system.summary_processor_count.unwrap_or(0)
    } else {
        u32::try_from(cpus.len()).unwrap_or(u32::MAX)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let summary_mib = system
        .summary_memory_gib
        .map(|gib| (gib * 1024.0).round() as u64)
        .filter(|mib| *mib > 0);
    let memory_mib = summary_mib.unwrap_or_else(|| {
        parts
            .dimms
            .iter()
            .filter_map(|d| d.capacity_mib)
            .fold(0u64, u64::saturating_add)
    });
    SystemSummary {
        system_id: system.system_id,
        resource_uri: system.resource_uri,
        name: system.name,
        uuid: system.uuid,
        description: system.description,
        health: system.health,
        power_state: system.power_state,
        processor_count,
        total_cores,
        processor_model: cpus
            .iter()
            .find_map(|p| p.model.clone())
            .or(system.summary_processor_model),
        instruction_set: cpus.iter().find_map(|p| p.instruction_set.clone()),
        memory_mib,
        memory_type: parts.dimms.iter().find_map(|d| d.device_type.clone()),
        drives: parts.drives,
        mac_addresses: parts.mac_addresses,
        location: system.chassis,
        composed_node: parts.composed_node,
    }
}

/// An RSD composed node. `ComposedNodeState` is required: without it the document is not a
/// composed node and compose could not follow it.
pub fn node(url: &str, doc: &Value) -> Result<ComposedNodeSummary, PodmError> {
    let resource_uri = own_uri(url, doc);
    let state = text(doc.get("ComposedNodeState"))
        .ok_or_else(|| PodmError::missing(url, "ComposedNodeState"))?;
    Ok(ComposedNodeSummary {
        index: own_id(&resource_uri, doc),
        name: text(doc.get("Name")),
        description: text(doc.get("Description")),
        uuid: text(doc.get("UUID")),
        state: ComposedNodeState::parse(&state),
        power_state: text(doc.get("PowerState")),
        system_uri: link(at(doc, &["Links", "ComputerSystem"])),
        attached: [
            at(doc, &["Links", "RemoteDrives"]),
            at(doc, &["Links", "LocalDrives"]),
        ]
        .into_iter()
        .flat_map(links)
        .collect(),
        resource_uri,
    })
}

/// A DMTF composed system seen as a node: it exists only once composed, so it is `Assembled`.
pub fn composed_system_as_node(url: &str, doc: &Value) -> ComposedNodeSummary {
    let resource_uri = own_uri(url, doc);
    ComposedNodeSummary {
        index: own_id(&resource_uri, doc),
        name: text(doc.get("Name")),
        description: text(doc.get("Description")),
        uuid: text(doc.get("UUID")),
        state: ComposedNodeState::Assembled,
        power_state: text(doc.get("PowerState")),
        system_uri: Some(resource_uri.clone()),
        attached: Vec::new(),
        resource_uri,
    }
}

/// Whether a system document is a DMTF composed system.
pub fn is_composed_system(doc: &Value) -> bool {
    text(doc.get("SystemType")).is_some_and(|t| t.eq_ignore_ascii_case("Composed"))
}

/// A chassis, if it is a rack.
pub fn rack(url: &str, doc: &Value) -> Option<RackSummary> {
    let chassis_type = text(doc.get("ChassisType"))?;
    if !chassis_type.eq_ignore_ascii_case("Rack") {
        return None;
    }
    let resource_uri = own_uri(url, doc);
    Some(RackSummary {
        rack_id: own_id(&resource_uri, doc),
        name: text(doc.get("Name")),
        description: text(doc.get("Description")),
        manufacturer: text(doc.get("Manufacturer")),
        model: text(doc.get("Model")),
        serial_number: text(doc.get("SerialNumber")),
        location: rackscale_oem(doc).and_then(|o| text(at(o, &["Location", "Id"]))),
        health: health(doc),
        systems: links(at(doc, &["Links", "ComputerSystems"])),
        contains: links(at(doc, &["Links", "Contains"])),
        resource_uri,
    })
}

/// A fabric endpoint, if it is a target (a pooled device), not an initiator (a host port).
pub fn endpoint_device(url: &str, doc: &Value) -> Option<DeviceSummary> {
    let entities = doc.get("ConnectedEntities").and_then(Value::as_array);
    let target = entities.and_then(|list| {
        list.iter()
            .find(|e| text(e.get("EntityRole")).is_none_or(|r| r.eq_ignore_ascii_case("Target")))
    });
    if entities.is_some_and(|list| !list.is_empty()) && target.is_none() {
        return None;
    }
    let endpoint_uri = own_uri(url, doc);
    let target_uri = target.and_then(|t| link(t.get("EntityLink")));
    let device_type = target.and_then(|t| text(t.get("EntityType"))).or_else(|| {
        target_uri.as_deref().and_then(|uri| {
            ["Drives", "Volumes", "Processors"]
                .iter()
                .find(|kind| uri.contains(&format!("/{kind}/")))
                .map(|kind| kind.trim_end_matches('s').to_owned())
        })
    });
    Some(DeviceSummary {
        device_id: own_id(&endpoint_uri, doc),
        resource_uri: target_uri.unwrap_or_else(|| endpoint_uri.clone()),
        name: text(doc.get("Name")),
        device_type,
        protocol: text(doc.get("EndpointProtocol")),
        health: health(doc),
        state: text(at(doc, &["Status", "State"])),
        endpoint_uri,
    })
}
