//! Real PODM and Redfish documents (shared/fixtures: rsd v2_1..v2_3, upstream Valence fakes, DMTF
//! mockups) read into Valence's model, and the Allocate body checked against the RSD schemas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use valence_pod_manager_api::parse::{self, SystemParts};
use valence_pod_manager_api::{
    ComposeRequest, ComposedNodeState, Driver, Expand, PodmError, RsdVersion, ServiceRoot,
    allocate_body,
};

fn fixtures() -> PathBuf {
    valence_fixtures::dir()
}

fn read(rel: &str) -> Result<Value, PodmError> {
    let path = fixtures().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse::document(rel, &bytes)
}

fn load(rel: &str) -> Value {
    read(rel).unwrap_or_else(|e| panic!("{e}"))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn all_json(sub: &str) -> Vec<(String, Value)> {
    let mut files = Vec::new();
    json_files(&fixtures().join(sub), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(fixtures()).unwrap().display().to_string();
            let bytes = std::fs::read(&p).unwrap();
            // Only objects are resources; the upstream Valence fakes include bare lists.
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .filter(Value::is_object)
                .map(|v| (rel, v))
        })
        .collect()
}

fn odata_type(v: &Value) -> &str {
    v.get("@odata.type").and_then(Value::as_str).unwrap_or("")
}

#[test]
fn every_fixture_decodes_except_the_known_malformed_one_which_is_named() {
    let mut files = Vec::new();
    json_files(&fixtures(), &mut files);
    assert!(
        files.len() > 400,
        "fixtures not found at {}",
        fixtures().display()
    );
    let mut failures = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(fixtures()).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        if let Err(e) = parse::document(&rel, &bytes) {
            failures.push((rel, e.to_string()));
        }
    }
    let malformed: Vec<&str> = failures
        .iter()
        .filter(|(_, e)| e.contains("not valid JSON"))
        .map(|(rel, _)| rel.as_str())
        .collect();
    assert_eq!(
        malformed,
        vec!["rsd/v2_1/physical_drive.json"],
        "{failures:#?}"
    );
    let (_, message) = failures
        .iter()
        .find(|(rel, _)| rel == "rsd/v2_1/physical_drive.json")
        .unwrap();
    assert!(
        message.contains("rsd/v2_1/physical_drive.json"),
        "{message}"
    );
    assert!(message.contains("line 6 column 5"), "{message}");
    // The others are bare JSON arrays (upstream Valence's fake lists), refused as documents.
    for (rel, e) in &failures {
        if !rel.ends_with("physical_drive.json") {
            assert!(
                e.contains("expected a JSON object, got an array"),
                "{rel}: {e}"
            );
        }
    }
}

#[test]
fn service_roots_give_driver_versions_and_links() {
    let r = ServiceRoot::parse("rsd/v2_1/root.json", &load("rsd/v2_1/root.json")).unwrap();
    assert_eq!(r.detect_driver(), Driver::Rsd);
    assert_eq!(r.rsd_version(), RsdVersion::V2_1);
    assert_eq!(r.nodes.as_deref(), Some("/redfish/v1/Nodes"));
    assert_eq!(
        r.sessions.as_deref(),
        Some("/redfish/v1/SessionService/Sessions")
    );
    assert!(r.offers_sessions());
    assert_eq!(r.expand, Expand::Unsupported);

    for (file, version) in [
        ("rsd/v2_2/root.json", RsdVersion::V2_2),
        ("rsd/v2_3/root.json", RsdVersion::V2_3),
    ] {
        let r = ServiceRoot::parse(file, &load(file)).unwrap();
        assert_eq!(r.detect_driver(), Driver::Rsd, "{file}");
        assert_eq!(r.rsd_version(), version, "{file}");
        // Nodes moved under Oem.Intel_RackScale from 2.2.
        assert_eq!(r.nodes.as_deref(), Some("/redfish/v1/Nodes"), "{file}");
        assert!(!r.offers_sessions(), "{file}");
        assert_eq!(r.systems.as_deref(), Some("/redfish/v1/Systems"));
    }

    // Upstream Valence's fake PODM: no OEM block, but a Nodes collection.
    let r = ServiceRoot::parse("valence", &load("valence/fake_service_root.json")).unwrap();
    assert_eq!(r.detect_driver(), Driver::Rsd);
    assert_eq!(r.rsd_version(), RsdVersion::V1);

    let r = ServiceRoot::parse("dmtf", &load("dmtf/public-composability/index.json")).unwrap();
    assert_eq!(r.detect_driver(), Driver::Redfish);
    assert_eq!(
        r.composition_service.as_deref(),
        Some("/redfish/v1/CompositionService")
    );
    assert_eq!(r.expand, Expand::NoLinks);
    assert!(r.nodes.is_none());
    let r = ServiceRoot::parse("dmtf", &load("dmtf/public-compose-action/index.json")).unwrap();
    assert_eq!(r.detect_driver(), Driver::Redfish);
}

#[test]
fn every_system_fixture_parses() {
    let mut systems: Vec<(String, Value)> = [
        "rsd/v2_1/system.json",
        "rsd/v2_2/system.json",
        "rsd/v2_3/system.json",
        "valence/fake_detailed_system.json",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), load(f)))
    .collect();
    systems.extend(
        all_json("dmtf")
            .into_iter()
            .filter(|(_, v)| odata_type(v).starts_with("#ComputerSystem.")),
    );
    assert!(systems.len() >= 15, "{}", systems.len());
    for (file, v) in &systems {
        let s = parse::system(file, v);
        assert!(!s.system_id.is_empty(), "{file}");
        assert!(
            s.resource_uri.starts_with("/redfish/v1/"),
            "{file}: {}",
            s.resource_uri
        );
    }

    let s = parse::system("x", &load("valence/fake_detailed_system.json"));
    assert_eq!(
        s.summary_processor_count,
        Some(1),
        "\"Count\": \"1\" is a count"
    );
    assert_eq!(s.summary_memory_gib, Some(8.0));
    assert_eq!(s.power_state.as_deref(), Some("On"));

    // Nulls in 2.2's System2 are absent values, not errors.
    let s = parse::system("x", &load("rsd/v2_2/system.json"));
    assert_eq!(s.summary_processor_model, None);
    assert_eq!(s.summary_processor_count, Some(0));
    assert_eq!(s.health.as_deref(), Some("OK"));
    assert_eq!(s.summary_memory_gib, Some(0.0));
    // `"SimpleStorage": {}` links nothing.
    let s = parse::system("x", &load("rsd/v2_1/system.json"));
    assert_eq!(s.simple_storage, None);
    assert_eq!(
        s.storage.as_deref(),
        Some("/redfish/v1/Systems/System1/Storage")
    );
    assert_eq!(s.chassis.as_deref(), Some("/redfish/v1/Chassis/4"));
}

#[test]
fn processors_memory_nics_and_drives_parse() {
    for f in ["rsd/v2_1/processor.json", "rsd/v2_2/processor.json"] {
        let p = parse::processor(f, &load(f));
        assert_eq!(p.cores, Some(8), "{f}");
        assert_eq!(p.instruction_set.as_deref(), Some("x86-64"));
        assert!(p.is_cpu);
    }
    let p = parse::processor("v", &load("valence/fake_processor.json"));
    assert_eq!(
        (p.cores, p.model.as_deref()),
        (Some(8), Some("Intel(R) Core(TM) i7-4790"))
    );
    for (file, v) in all_json("dmtf")
        .iter()
        .filter(|(_, v)| odata_type(v).starts_with("#Processor."))
    {
        let p = parse::processor(file, v);
        if p.is_cpu {
            assert!(p.cores.is_some_and(|c| c > 0), "{file}");
        }
    }
    let gpu = parse::processor(
        "gpu",
        &load(
            "dmtf/public-composability/CompositionService/ResourceBlocks/OffloadBlock9/Processors/Block9GPU/index.json",
        ),
    );
    assert!(!gpu.is_cpu, "a GPU's cores are not system cores");

    for f in ["rsd/v2_1/memory.json", "rsd/v2_2/memory.json"] {
        let m = parse::memory(f, &load(f));
        assert_eq!(
            (m.capacity_mib, m.device_type.as_deref()),
            (Some(16384), Some("DDR4")),
            "{f}"
        );
    }
    assert_eq!(
        parse::memory("v", &load("valence/fake_memory.json")).capacity_mib,
        Some(8192)
    );
    for (file, v) in all_json("dmtf")
        .iter()
        .filter(|(_, v)| odata_type(v).starts_with("#Memory."))
    {
        assert!(parse::memory(file, v).capacity_mib.is_some(), "{file}");
    }

    assert_eq!(
        parse::ethernet_mac("x", &load("rsd/v2_1/system_ethernet_interface.json")).as_deref(),
        Some("AA:BB:CC:DD:EE:FF")
    );
    assert_eq!(
        parse::ethernet_mac("x", &load("valence/fake_network_interface.json")).as_deref(),
        Some("e9:47:d3:60:64:66")
    );
    for (file, v) in all_json("dmtf")
        .iter()
        .filter(|(_, v)| odata_type(v).starts_with("#EthernetInterface."))
    {
        // Every interface of the mockups has a MAC, except the manager's.
        if !file.contains("Managers") {
            assert!(parse::ethernet_mac(file, v).is_some(), "{file}");
        }
    }

    let d = parse::drive("x", &load("rsd/v2_1/drive.json"));
    assert_eq!(
        (d.capacity_gib, d.drive_type.as_deref()),
        (837, Some("SSD"))
    );
    let d = parse::drive("x", &load("rsd/v2_3/drive.json"));
    assert_eq!(
        (d.capacity_gib, d.drive_type.as_deref()),
        (2274, Some("SSD"))
    );
    for (file, v) in all_json("dmtf")
        .iter()
        .filter(|(_, v)| odata_type(v).starts_with("#Drive."))
    {
        assert!(parse::drive(file, v).capacity_gib > 0, "{file}");
    }
    // RSD 1.x style `CapacityGiB` (the malformed physical_drive.json spelled right).
    let d = parse::drive("x", &json!({"CapacityGiB": 500, "Type": "HDD"}));
    assert_eq!(
        (d.capacity_gib, d.drive_type.as_deref()),
        (500, Some("HDD"))
    );

    let devices = parse::simple_storage("x", &load("valence/fake_simple_storage.json"));
    assert_eq!(
        devices.iter().map(|d| d.capacity_gib).collect::<Vec<_>>(),
        vec![300, 300]
    );
    assert_eq!(
        parse::storage_drives("x", &load("rsd/v2_1/storage.json")),
        vec!["/redfish/v1/Chassis/Blade1/Drives/Disk1"]
    );
}

#[test]
fn a_system_summary_adds_up_its_parts() {
    let system = parse::system("x", &load("rsd/v2_1/system.json"));
    let cpu = parse::processor("x", &load("rsd/v2_1/processor.json"));
    let parts = SystemParts {
        processors: vec![cpu.clone(), cpu],
        dimms: vec![parse::memory("x", &load("rsd/v2_1/memory.json"))],
        mac_addresses: vec!["AA:BB:CC:DD:EE:FF".into()],
        drives: vec![parse::drive("x", &load("rsd/v2_1/drive.json"))],
        composed_node: Some("/redfish/v1/Nodes/Node1".into()),
    };
    let s = parse::summarize(system, parts);
    assert_eq!(s.total_cores, 16);
    assert_eq!(s.processor_count, 2);
    assert_eq!(
        s.memory_mib,
        16 * 1024,
        "MemorySummary.TotalSystemMemoryGiB 16.0"
    );
    assert_eq!(s.memory_type.as_deref(), Some("DDR4"));
    assert_eq!(s.instruction_set.as_deref(), Some("x86-64"));
    assert_eq!(s.location.as_deref(), Some("/redfish/v1/Chassis/4"));
    assert!(!s.is_free());

    // No summary size (0 in 2.2's System2): the modules are summed.
    let system = parse::system("x", &load("rsd/v2_2/system.json"));
    let dimm = parse::memory("x", &load("rsd/v2_2/memory.json"));
    let s = parse::summarize(
        system,
        SystemParts {
            dimms: vec![dimm.clone(), dimm],
            ..SystemParts::default()
        },
    );
    assert_eq!(s.memory_mib, 32768);
    assert_eq!(s.total_cores, 0);
    assert!(s.is_free());
}

#[test]
fn nodes_parse_with_unknown_states_and_both_allowable_spellings() {
    for f in ["rsd/v2_1/node.json", "rsd/v2_3/node.json"] {
        let v = load(f);
        let n = parse::node(f, &v).unwrap();
        assert_eq!(n.state, ComposedNodeState::Allocated, "{f}");
        assert_eq!(n.system_uri.as_deref(), Some("/redfish/v1/Systems/System1"));
        assert_eq!(n.index, "Node1");
        assert!(
            parse::action_target(&v, "#ComposedNode.Assemble").is_some(),
            "{f}"
        );
        assert_eq!(
            parse::action_allowable_values(&v, "#ComposedNode.Reset", "ResetType").map(|v| v.len()),
            Some(8)
        );
    }
    let v = load("valence/fake_node_detail.json");
    let n = parse::node("x", &v).unwrap();
    assert_eq!(n.state, ComposedNodeState::Other("PoweredOff".into()));
    assert!(
        n.state.is_assembled(),
        "PoweredOff after assembly counts as assembled"
    );
    assert_eq!(n.description, None, "empty description reads as none");
    let allowed = parse::action_allowable_values(&v, "#ComposedNode.Reset", "ResetType").unwrap();
    assert!(
        allowed.contains(&"GracefulShutdown".to_owned()),
        "@DMTF.AllowableValues"
    );

    let mut broken = v.clone();
    broken.as_object_mut().unwrap().remove("ComposedNodeState");
    let err = parse::node("/redfish/v1/Nodes/6", &broken).unwrap_err();
    assert!(matches!(err, PodmError::BadResponse { .. }));
    assert!(
        err.to_string().contains("/redfish/v1/Nodes/6")
            && err.to_string().contains("ComposedNodeState"),
        "{err}"
    );
}

#[test]
fn node_collections_give_members_and_the_allocate_target() {
    for f in [
        "rsd/v2_1/node_collection.json",
        "rsd/v2_3/node_collection.json",
        "valence/fake_nodes_root.json",
    ] {
        let v = load(f);
        assert_eq!(parse::collection_members(f, &v).unwrap().len(), 1, "{f}");
        assert_eq!(
            parse::action_target(&v, "#ComposedNodeCollection.Allocate").as_deref(),
            Some("/redfish/v1/Nodes/Actions/Allocate"),
            "{f}"
        );
    }
    let err = parse::collection_members("/redfish/v1/Nodes", &json!({"Name": "x"})).unwrap_err();
    assert!(err.to_string().contains("Members"), "{err}");
    // Every collection of the fixtures lists its members.
    for (file, v) in all_json("")
        .iter()
        .filter(|(_, v)| odata_type(v).contains("Collection."))
    {
        parse::collection_members(file, v).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn racks_and_pooled_devices_parse() {
    let racks: Vec<Value> = serde_json::from_slice(
        &std::fs::read(fixtures().join("valence/fake_chassis_list.json")).unwrap(),
    )
    .unwrap();
    let found: Vec<_> = racks
        .iter()
        .filter_map(|c| parse::rack("/redfish/v1/Chassis/x", c))
        .collect();
    assert_eq!(found.len(), 2, "Pod is not a rack");
    assert_eq!(found[0].name.as_deref(), Some("Rack 1"));
    assert!(
        parse::rack("x", &load("rsd/v2_1/chassis.json")).is_none(),
        "RackMount is not a rack"
    );
    let mut rack = load("rsd/v2_2/chassis.json");
    rack["ChassisType"] = json!("Rack");
    let r = parse::rack("x", &rack).unwrap();
    assert_eq!(r.location.as_deref(), Some("Rack1"));
    assert_eq!(r.systems.len(), 4);

    let d = parse::endpoint_device("x", &load("rsd/v2_1/endpoint.json")).unwrap();
    assert_eq!(
        d.resource_uri,
        "/redfish/v1/Chassis/PCIeSwitch1/Drives/Disk.Bay.0"
    );
    assert_eq!(d.device_type.as_deref(), Some("Drive"));
    assert_eq!(d.protocol.as_deref(), Some("PCIe"));
    let d = parse::endpoint_device("x", &load("rsd/v2_3/endpoint_1.json")).unwrap();
    assert_eq!(d.resource_uri, "/redfish/v1/StorageServices/1/Volumes/1");
    assert_eq!(d.device_type.as_deref(), Some("Volume"));
    let initiator = json!({"@odata.id": "/e/2", "ConnectedEntities": [{"EntityRole": "Initiator", "EntityLink": {"@odata.id": "/redfish/v1/Systems/1"}}]});
    assert!(parse::endpoint_device("x", &initiator).is_none());
}

/// The RSD schemas list each property's schema; `items` is a one-element list (tuple form,
/// which checks only the first element), so every element is checked against it here.
fn property_schema(schemas: &Value, key: &str) -> Value {
    let mut schema = schemas[key].clone();
    if let Some(first) = schema
        .get("items")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
    {
        schema["items"] = first;
    }
    schema
}

fn violations(schemas: &Value, body: &Value) -> Vec<String> {
    let mapping = [
        ("Processors", "processor_req_schema"),
        ("Memory", "memory_req_schema"),
        ("RemoteDrives", "remote_drive_req_schema"),
        ("LocalDrives", "local_drive_req_schema"),
        ("EthernetInterfaces", "ethernet_interface_req_schema"),
        ("Security", "security_req_schema"),
        ("TotalSystemCoreCount", "total_system_core_req_schema"),
        ("TotalSystemMemoryMiB", "total_system_memory_req_schema"),
    ];
    let mut found = Vec::new();
    for (key, value) in body.as_object().unwrap() {
        if key == "Name" || key == "Description" {
            if !value.is_string() {
                found.push(format!("{key} is not a string"));
            }
            continue;
        }
        let Some((_, schema_key)) = mapping.iter().find(|(k, _)| k == key) else {
            found.push(format!("{key} is not an Allocate property"));
            continue;
        };
        if schemas.get(*schema_key).is_none() {
            found.push(format!("{key} is not in this version's schema"));
            continue;
        }
        // rsd-lib validated with draft-4 semantics (tuple `items`); no `$schema` says so here.
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&property_schema(schemas, schema_key))
            .unwrap();
        found.extend(validator.iter_errors(value).map(|e| format!("{key}: {e}")));
    }
    found
}

#[test]
fn allocate_bodies_pass_each_versions_schema() {
    let rich = ComposeRequest {
        name: "node-1".into(),
        description: Some("made by the test".into()),
        requirements: serde_json::from_value(json!({
            "processor": {"total_cores": "16", "model": "Xeon", "instruction_set": "x86-64"},
            "memory": {"capacity_mib": 65536, "type": "ddr4"},
            "storage": [{"capacity_gib": 100, "type": "SSD"}, {"capacity_gib": "2000", "type": "hdd"}]
        }))
        .unwrap(),
        tag: Some("3f2a7c1e-0000-4000-8000-000000000001".into()),
    };
    for (file, version) in [
        ("v2_1_node_schemas.json", RsdVersion::V2_1),
        ("v2_2_node_schemas.json", RsdVersion::V2_2),
        ("v2_3_node_schemas.json", RsdVersion::V2_3),
    ] {
        let schemas = load(&format!("rsd/allocate-request-schemas/{file}"));
        let body = allocate_body(&rich, version).unwrap();
        assert_eq!(
            violations(&schemas, &body),
            Vec::<String>::new(),
            "{file}: {body}"
        );
        assert_eq!(
            body["TotalSystemCoreCount"],
            json!(16),
            "a number, not \"16\""
        );
        assert_eq!(
            body["LocalDrives"][1],
            json!({"CapacityGiB": 2000, "Type": "HDD"})
        );
        assert!(
            body["Description"]
                .as_str()
                .unwrap()
                .contains("[valence:3f2a7c1e-0000-4000-8000-000000000001]")
        );

        // The check can fail: strings for numbers, unknown properties, values outside an enum.
        let mut bad = body.clone();
        bad["TotalSystemMemoryMiB"] = json!("65536");
        bad["LocalDrives"][1]["Type"] = json!("Tape");
        bad["Processors"][0]["Cores"] = json!(4);
        assert_eq!(
            violations(&schemas, &bad).len(),
            3,
            "{file}: {:?}",
            violations(&schemas, &bad)
        );
    }
    // The example body from rsd-lib's tests passes too: the schemas are read right.
    let example = load("rsd/allocate-request-schemas/allocate-request-example-from-test_node.json");
    let schemas = load("rsd/allocate-request-schemas/v2_1_node_schemas.json");
    assert_eq!(violations(&schemas, &example), Vec::<String>::new());
}
