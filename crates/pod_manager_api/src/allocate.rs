//! The RSD `#ComposedNodeCollection.Allocate` request body, built from Valence requirements.
//!
//! Mapping (the same for RSD 2.1, 2.2 and 2.3: all three schemas accept `TotalSystemCoreCount`
//! and `TotalSystemMemoryMiB`, and differ only in properties Valence does not send):
//! - `processor.total_cores` -> `TotalSystemCoreCount`: Valence asks for a minimum over the
//!   whole system, which is what this property means (`Processors[].TotalCores` would ask for
//!   one processor with that many cores);
//! - `processor.model`, `processor.instruction_set` -> one `Processors[]` entry;
//! - `memory.capacity_mib` -> `TotalSystemMemoryMiB`; `memory.type` -> `Memory[].MemoryDeviceType`;
//! - `storage[]` -> `LocalDrives[]` with `CapacityGiB` and `Type`.
//!
//! Numbers are JSON numbers (RSD 2.x rejects `"8000"`); enumerated values are sent in the
//! spelling of the RSD schema whatever case the flavor used, and a value outside it is refused
//! here (`Unsupported`) rather than by the PODM.

use serde_json::{Map, Value, json};

use crate::model::Requirements;
use crate::root::RsdVersion;
use crate::{ComposeRequest, PodmError, tag_marker};

/// `InstructionSet` values of the RSD 2.x Allocate schemas.
const INSTRUCTION_SETS: [&str; 8] = [
    "x86", "x86-64", "IA-64", "ARM-A32", "ARM-A64", "MIPS32", "MIPS64", "OEM",
];

/// `MemoryDeviceType` values of the RSD 2.x Allocate schemas.
const MEMORY_DEVICE_TYPES: [&str; 19] = [
    "DDR",
    "DDR2",
    "DDR3",
    "DDR4",
    "DDR4_SDRAM",
    "DDR4E_SDRAM",
    "LPDDR4_SDRAM",
    "DDR3_SDRAM",
    "LPDDR3_SDRAM",
    "DDR2_SDRAM",
    "DDR2_SDRAM_FB_DIMM",
    "DDR2_SDRAM_FB_DIMM_PROBE",
    "DDR_SGRAM",
    "DDR_SDRAM",
    "ROM",
    "SDRAM",
    "EDO",
    "FastPageMode",
    "PipelinedNibble",
];

const DRIVE_TYPES: [&str; 2] = ["HDD", "SSD"];

/// The node's description as sent: the caller's text and Valence's tag.
pub fn description_with_tag(request: &ComposeRequest) -> Option<String> {
    match (request.description.as_deref(), request.tag.as_deref()) {
        (Some(d), Some(tag)) => Some(format!("{d} {}", tag_marker(tag))),
        (None, Some(tag)) => Some(tag_marker(tag)),
        (Some(d), None) => Some(d.to_owned()),
        (None, None) => None,
    }
}

/// The Allocate body for `request` on a PODM of `version`.
pub fn allocate_body(request: &ComposeRequest, version: RsdVersion) -> Result<Value, PodmError> {
    // All supported versions take the same properties for what Valence asks; the version is
    // an argument so that a future difference has one place to go.
    let _ = version;
    let mut body = Map::new();
    body.insert("Name".into(), json!(request.name));
    if let Some(description) = description_with_tag(request) {
        body.insert("Description".into(), json!(description));
    }
    add_requirements(&mut body, &request.requirements)?;
    Ok(Value::Object(body))
}

fn add_requirements(body: &mut Map<String, Value>, req: &Requirements) -> Result<(), PodmError> {
    if let Some(p) = &req.processor {
        if let Some(cores) = p.total_cores {
            body.insert("TotalSystemCoreCount".into(), json!(cores));
        }
        let mut processor = Map::new();
        if let Some(model) = &p.model {
            processor.insert("Model".into(), json!(model));
        }
        if let Some(set) = &p.instruction_set {
            let spelled = enum_spelling(&INSTRUCTION_SETS, set, "processor instruction set")?;
            processor.insert("InstructionSet".into(), json!(spelled));
        }
        if !processor.is_empty() {
            body.insert("Processors".into(), json!([processor]));
        }
    }
    if let Some(m) = &req.memory {
        if let Some(mib) = m.capacity_mib {
            body.insert("TotalSystemMemoryMiB".into(), json!(mib));
        }
        if let Some(kind) = &m.memory_type {
            let spelled = enum_spelling(&MEMORY_DEVICE_TYPES, kind, "memory type")?;
            body.insert("Memory".into(), json!([{ "MemoryDeviceType": spelled }]));
        }
    }
    if !req.storage.is_empty() {
        let mut drives = Vec::with_capacity(req.storage.len());
        for s in &req.storage {
            let mut drive = Map::new();
            if let Some(gib) = s.capacity_gib {
                drive.insert("CapacityGiB".into(), json!(gib));
            }
            if let Some(kind) = &s.drive_type {
                drive.insert(
                    "Type".into(),
                    json!(enum_spelling(&DRIVE_TYPES, kind, "drive type")?),
                );
            }
            drives.push(Value::Object(drive));
        }
        body.insert("LocalDrives".into(), Value::Array(drives));
    }
    Ok(())
}

fn enum_spelling(
    allowed: &[&'static str],
    value: &str,
    what: &str,
) -> Result<&'static str, PodmError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value.trim()))
        .copied()
        .ok_or_else(|| {
            PodmError::unsupported(format!(
                "{what} {value:?} (RSD accepts: {})",
                allowed.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(requirements: &str, tag: Option<&str>) -> ComposeRequest {
        ComposeRequest {
            name: "n1".into(),
            description: Some("web".into()),
            requirements: serde_json::from_str(requirements).unwrap(),
            tag: tag.map(str::to_owned),
        }
    }

    #[test]
    fn numbers_are_numbers_and_enums_are_spelled_as_rsd_wants() {
        let body = allocate_body(
            &request(
                r#"{"processor":{"total_cores":"8","model":"Xeon","instruction_set":"X86-64"},
                    "memory":{"capacity_mib":"16384","type":"ddr4"},
                    "storage":[{"capacity_gib":"100","type":"ssd"}]}"#,
                Some("6f1c"),
            ),
            RsdVersion::V2_3,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({
                "Name": "n1",
                "Description": "web [valence:6f1c]",
                "TotalSystemCoreCount": 8,
                "Processors": [{"Model": "Xeon", "InstructionSet": "x86-64"}],
                "TotalSystemMemoryMiB": 16384,
                "Memory": [{"MemoryDeviceType": "DDR4"}],
                "LocalDrives": [{"CapacityGiB": 100, "Type": "SSD"}]
            })
        );
    }

    #[test]
    fn empty_requirements_send_only_name_and_description() {
        let body = allocate_body(&request("{}", None), RsdVersion::V2_1).unwrap();
        assert_eq!(body, json!({"Name": "n1", "Description": "web"}));
    }

    #[test]
    fn values_rsd_does_not_know_are_refused_naming_the_choices() {
        let err = allocate_body(
            &request(r#"{"processor":{"instruction_set":"riscv"}}"#, None),
            RsdVersion::V2_2,
        )
        .unwrap_err();
        assert!(matches!(err, PodmError::Unsupported { .. }));
        assert!(err.to_string().contains("x86-64"), "{err}");
    }
}
