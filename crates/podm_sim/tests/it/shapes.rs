//! The simulator's resources against the rsd-lib samples (same properties as the sample of the
//! same resource type and version), the samples themselves, dead links, and seed determinism.

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Value, json};
use valence_podm_sim::{RsdVersion, SimConfig, inventory};

use crate::client::Client;
use crate::devices::{attach_first, fabric_path};
use crate::{allocate_ok, fixture, fixtures_dir, sim};

/// Samples known not to be JSON (an upstream defect of rsd-lib).
const KNOWN_MALFORMED: &[&str] = &["v2_1/physical_drive.json"];

#[test]
fn every_rsd_sample_parses_or_is_known_malformed() {
    let root = fixtures_dir().join("rsd");
    let mut checked = 0;
    for dir in ["v2_1", "v2_2", "v2_3", "allocate-request-schemas"] {
        let entries = std::fs::read_dir(root.join(dir)).expect("fixture directory");
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = serde_json::from_str::<Value>(&text);
            if KNOWN_MALFORMED.contains(&name.as_str()) {
                assert!(parsed.is_err(), "{name} is listed as malformed but parses");
            } else {
                assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} samples found");
}

/// Sample properties the simulator leaves out on purpose (things it does not simulate), as
/// `(sample file, dotted property path)`.
const NOT_SIMULATED: &[(&str, &str)] = &[
    ("*", "@Redfish.Copyright"),
    ("system.json", "Bios"),
    ("system.json", "LogServices"),
    ("system.json", "Oem.Intel_RackScale.Metrics"),
    ("processor.json", "Oem.Intel_RackScale.Metrics"),
    ("processor.json", "Oem.Intel_RackScale.FPGA"),
    (
        "processor.json",
        "Oem.Intel_RackScale.ExtendedIdentificationRegisters",
    ),
    ("memory.json", "Metrics"),
    ("memory.json", "MaxTDPMilliWatts"),
    ("chassis.json", "ThermalZones"),
    ("chassis.json", "PowerZones"),
    ("chassis.json", "Thermal"),
    ("chassis.json", "Power"),
    ("manager.json", "Actions"),
    // misspelt in the 2.3 sample (no "@")
    ("drive.json", "Links.odata.type"),
    ("drive.json", "Oem.Intel_RackScale.odata.type"),
    ("volume.json", "Links.Oem.Intel_RackScale.Metrics"),
];

/// Nested objects whose properties are compared too, per sample.
const NESTED: &[(&str, &[&str])] = &[
    ("root.json", &["Oem.Intel_RackScale", "Links"]),
    (
        "system.json",
        &[
            "ProcessorSummary",
            "MemorySummary",
            "Boot",
            "Links",
            "Actions",
            "Oem.Intel_RackScale",
        ],
    ),
    ("processor.json", &["ProcessorId", "Oem.Intel_RackScale"]),
    ("memory.json", &["MemoryLocation", "Oem.Intel_RackScale"]),
    ("chassis.json", &["Links", "Oem.Intel_RackScale"]),
    ("manager.json", &["Links"]),
    (
        "node.json",
        &["Processors", "Memory", "Boot", "Links", "Actions"],
    ),
    ("node_collection.json", &["Actions"]),
    ("drive.json", &["Links", "Oem.Intel_RackScale"]),
    ("system_ethernet_interface.json", &["Links"]),
    // The chassis sample is a rack: its rack-only Oem properties do not apply to an enclosure.
    ("chassis.json:enclosure", &["Links"]),
    ("fabric.json", &["Status", "Links"]),
    ("endpoint.json", &["Status", "Links"]),
    (
        "endpoint_1.json",
        &[
            "Links",
            "Links.Oem.Intel_RackScale",
            "Oem.Intel_RackScale",
            "Status",
        ],
    ),
    (
        "endpoint_2.json",
        &[
            "Links",
            "Links.Oem.Intel_RackScale",
            "Oem.Intel_RackScale",
            "Status",
        ],
    ),
    ("zone.json", &["Links", "Status"]),
    (
        "storage_service.json",
        &["Links", "Links.Oem.Intel_RackScale", "Status"],
    ),
    (
        "volume.json",
        &[
            "Links",
            "Links.Oem.Intel_RackScale",
            "Oem.Intel_RackScale",
            "Capacity",
        ],
    ),
];

fn version_dir(v: RsdVersion) -> &'static str {
    match v {
        RsdVersion::V2_1 => "v2_1",
        RsdVersion::V2_2 => "v2_2",
        RsdVersion::V2_3 => "v2_3",
    }
}

/// The sample of `file` for `version`, or of the nearest version that has one.
fn sample_for(version: RsdVersion, file: &str) -> (String, Value) {
    let mut order: Vec<RsdVersion> = RsdVersion::ALL.to_vec();
    order.sort_by_key(|v| (*v as i32 - version as i32).abs() * 2 + i32::from(*v > version));
    for v in order {
        let relative = format!("rsd/{}/{file}", version_dir(v));
        if fixtures_dir().join(&relative).exists() {
            return (relative.clone(), fixture(&relative));
        }
    }
    panic!("no sample {file} in any version");
}

fn at<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    if dotted.is_empty() {
        return Some(v);
    }
    dotted.split('.').try_fold(v, |v, key| v.get(key))
}

fn ignored(file: &str, path: &str) -> bool {
    NOT_SIMULATED
        .iter()
        .any(|(f, p)| (*f == file || *f == "*") && *p == path)
}

/// Properties of `sample` (at `prefix`) missing from `ours`.
fn missing_keys(file: &str, prefix: &str, sample: &Value, ours: &Value) -> Vec<String> {
    let Some(sample_obj) = at(sample, prefix).and_then(Value::as_object) else {
        return Vec::new();
    };
    let ours_obj = at(ours, prefix).and_then(Value::as_object);
    sample_obj
        .keys()
        .filter(|key| !ours_obj.is_some_and(|o| o.contains_key(*key)))
        .map(|key| {
            if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            }
        })
        .filter(|path| !ignored(file, path))
        .collect()
}

async fn compare_shapes(version: RsdVersion) {
    let (podm, client) = sim(SimConfig {
        version,
        systems: 12,
        seed: 4,
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({"Name": "shape"})).await;
    // One pooled drive attached, so the node's zone and initiator endpoint exist.
    let attached = attach_first(&client, &node).await;
    let inv = podm.inventory();
    let with_drives = inv.systems.iter().find(|s| !s.drives.is_empty()).unwrap();
    let s = &inv.systems[0];
    let sys = s.odata_id();
    let pairs: Vec<(&str, String)> = vec![
        ("root.json", "/redfish/v1".into()),
        ("system.json", sys.clone()),
        ("system_collection.json", "/redfish/v1/Systems".into()),
        ("processor.json", s.processor_odata_id(1)),
        ("processor_collection.json", format!("{sys}/Processors")),
        ("memory.json", s.dimm_odata_id(1)),
        ("memory_collection.json", format!("{sys}/Memory")),
        ("system_ethernet_interface.json", s.nic_odata_id(1)),
        (
            "system_ethernet_interface_collection.json",
            format!("{sys}/EthernetInterfaces"),
        ),
        ("storage.json", format!("{sys}/Storage/1")),
        ("storage_collection.json", format!("{sys}/Storage")),
        ("drive.json", with_drives.drive_odata_id(1)),
        (
            "drive_collection.json",
            format!("{}/Drives", with_drives.drawer_odata_id()),
        ),
        ("chassis.json", "/redfish/v1/Chassis/Rack1".into()),
        ("chassis_collection.json", "/redfish/v1/Chassis".into()),
        ("manager.json", "/redfish/v1/Managers/PODM".into()),
        ("manager_collection.json", "/redfish/v1/Managers".into()),
        (
            "manager_ethernet_interface.json",
            "/redfish/v1/Managers/PODM/EthernetInterfaces/1".into(),
        ),
        (
            "manager_ethernet_interface_collection.json",
            "/redfish/v1/Managers/PODM/EthernetInterfaces".into(),
        ),
        ("node.json", node.clone()),
        ("node_collection.json", "/redfish/v1/Nodes".into()),
    ];
    let mut pairs = pairs;
    let pool = podm.pooled_drives();
    let drive = pool
        .iter()
        .find(|d| d.resource_odata_id == attached)
        .unwrap();
    let fabric = fabric_path(&client).await;
    let zones = client.get_json(&format!("{fabric}/Zones")).await;
    let zone = zones["Members"][0]["@odata.id"]
        .as_str()
        .unwrap()
        .to_owned();
    let endpoints = client.get_json(&format!("{fabric}/Endpoints")).await;
    let initiator = endpoints["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.id"].as_str().unwrap().to_owned())
        .find(|e| pool.iter().all(|d| d.endpoint_odata_id != *e))
        .expect("an initiator endpoint");
    let (target_sample, initiator_sample) = if version == RsdVersion::V2_3 {
        ("endpoint_1.json", "endpoint_2.json")
    } else {
        ("endpoint.json", "endpoint.json")
    };
    let drive_chassis = drive.drive_odata_id.rsplit_once("/Drives/").unwrap().0;
    pairs.extend([
        ("fabric_collection.json", "/redfish/v1/Fabrics".to_owned()),
        ("fabric.json", fabric.clone()),
        ("endpoint_collection.json", format!("{fabric}/Endpoints")),
        (target_sample, drive.endpoint_odata_id.clone()),
        (initiator_sample, initiator),
        ("zone_collection.json", format!("{fabric}/Zones")),
        ("zone.json", zone),
        ("drive.json", drive.drive_odata_id.clone()),
        ("drive_collection.json", format!("{drive_chassis}/Drives")),
        ("chassis.json:enclosure", drive_chassis.to_owned()),
    ]);
    if version == RsdVersion::V2_3 {
        pairs.extend([
            (
                "attach_action_info.json",
                format!("{node}/Actions/AttachResourceActionInfo"),
            ),
            (
                "attach_action_info.json",
                format!("{node}/Actions/DetachResourceActionInfo"),
            ),
            (
                "storage_service_collection.json",
                "/redfish/v1/StorageServices".to_owned(),
            ),
            (
                "storage_service.json",
                "/redfish/v1/StorageServices/1".to_owned(),
            ),
            (
                "volume_collection.json",
                "/redfish/v1/StorageServices/1/Volumes".to_owned(),
            ),
            ("volume.json", drive.resource_odata_id.clone()),
        ]);
    }
    let mut problems = Vec::new();
    for (file, path) in pairs {
        // `file:variant` compares with `file` but has nested objects of its own.
        let variant = file;
        let file = variant.split(':').next().unwrap();
        let (sample_name, sample) = sample_for(version, file);
        let ours = client.get_json(&path).await;
        let mut missing = missing_keys(file, "", &sample, &ours);
        if let Some((_, nested)) = NESTED.iter().find(|(f, _)| *f == variant) {
            for prefix in *nested {
                missing.extend(missing_keys(file, prefix, &sample, &ours));
            }
        }
        if !missing.is_empty() {
            problems.push(format!("{path} vs {sample_name}: missing {missing:?}"));
        }
        // same kind of resource
        if let (Some(a), Some(b)) = (sample["@odata.type"].as_str(), ours["@odata.type"].as_str()) {
            let kind = |t: &str| {
                t.trim_start_matches('#')
                    .split('.')
                    .next_back()
                    .unwrap_or("")
                    .to_owned()
            };
            // rsd-lib's 2.1 node collection sample carries a malformed type
            if !a.contains("ComputerSystemCollection.ComposedNodeCollection")
                && !a.contains("Procssor")
            {
                assert_eq!(kind(a), kind(b), "{path} vs {sample_name}: @odata.type");
            }
        }
    }
    assert!(
        problems.is_empty(),
        "RSD {version}:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn shapes_match_the_rsd_2_1_samples() {
    compare_shapes(RsdVersion::V2_1).await;
}

#[tokio::test]
async fn shapes_match_the_rsd_2_2_samples() {
    compare_shapes(RsdVersion::V2_2).await;
}

#[tokio::test]
async fn shapes_match_the_rsd_2_3_samples() {
    compare_shapes(RsdVersion::V2_3).await;
}

#[tokio::test]
async fn service_roots_differ_by_version_where_the_samples_do() {
    for version in RsdVersion::ALL {
        let (_podm, client) = sim(SimConfig {
            version,
            systems: 1,
            ..SimConfig::default()
        })
        .await;
        let root = client.get_json("/redfish/v1").await;
        let oem = &root["Oem"]["Intel_RackScale"];
        assert_eq!(oem["ApiVersion"], version.api_version());
        let sample = fixture(&format!("rsd/{}/root.json", version_dir(version)));
        for key in ["Nodes", "Services", "EthernetSwitches"] {
            assert_eq!(
                root.get(key).is_some(),
                sample.get(key).is_some(),
                "RSD {version}: top-level {key}"
            );
            assert_eq!(
                oem.get(key).is_some(),
                sample["Oem"]["Intel_RackScale"].get(key).is_some(),
                "RSD {version}: Oem.Intel_RackScale.{key}"
            );
        }
    }
}

/// Follows every `@odata.id` from the service root; each must answer 200 with its own id.
async fn crawl(client: &Client) -> usize {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/redfish/v1".to_owned()]);
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let body = client.get_json(&path).await;
        let own = body["@odata.id"].as_str().unwrap_or_default();
        assert_eq!(own.trim_end_matches('/'), path, "@odata.id of {path}");
        let mut stack = vec![&body];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    for (k, child) in map {
                        if k == "@odata.id"
                            && let Some(link) = child.as_str()
                            && !link.contains('#')
                        {
                            queue.push_back(link.trim_end_matches('/').to_owned());
                        }
                        stack.push(child);
                    }
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    seen.len()
}

#[tokio::test]
async fn every_link_resolves() {
    for version in RsdVersion::ALL {
        let (_podm, client) = sim(SimConfig {
            version,
            systems: 10,
            seed: 21,
            ..SimConfig::default()
        })
        .await;
        let node = allocate_ok(&client, &json!({})).await;
        attach_first(&client, &node).await;
        let resources = crawl(&client).await;
        assert!(resources > 100, "RSD {version}: only {resources} resources");
    }
}

#[tokio::test]
async fn same_seed_gives_the_same_json() {
    let config = SimConfig {
        systems: 12,
        seed: 77,
        ..SimConfig::default()
    };
    let (a, ca) = sim(config.clone()).await;
    let (_b, cb) = sim(config.clone()).await;
    let (_c, cc) = sim(SimConfig { seed: 78, ..config }).await;
    assert_eq!(a.inventory(), &inventory(77, 12));
    let paths = [
        "/redfish/v1",
        "/redfish/v1/Systems",
        "/redfish/v1/Systems/5",
        "/redfish/v1/Systems/5/Processors/CPU1",
        "/redfish/v1/Systems/5/Memory/Dimm1",
        "/redfish/v1/Systems/5/EthernetInterfaces/LAN1",
        "/redfish/v1/Chassis/Drawer1",
    ];
    let mut differs = false;
    for path in paths {
        let first = ca.get(path).await.body;
        assert_eq!(first, cb.get(path).await.body, "{path}");
        differs |= first != cc.get(path).await.body;
    }
    assert!(differs, "another seed gives another inventory");
}

#[tokio::test]
async fn systems_report_the_inventory() {
    let (podm, client) = sim(SimConfig {
        systems: 20,
        seed: 3,
        ..SimConfig::default()
    })
    .await;
    for s in &podm.inventory().systems {
        let body = client.get_json(&s.odata_id()).await;
        assert_eq!(body["ProcessorSummary"]["Count"], s.sockets);
        assert_eq!(body["ProcessorSummary"]["Model"], s.cpu.model);
        assert_eq!(
            body["MemorySummary"]["TotalSystemMemoryGiB"],
            s.memory_gib()
        );
        let cpu = client.get_json(&s.processor_odata_id(1)).await;
        assert_eq!(cpu["TotalCores"], s.cpu.cores);
        assert_eq!(cpu["InstructionSet"], s.cpu.instruction_set);
        let memory = client.get_json(&format!("{}/Memory", s.odata_id())).await;
        assert_eq!(memory["Members@odata.count"], s.dimms);
        let storage = client
            .get_json(&format!("{}/Storage/1", s.odata_id()))
            .await;
        assert_eq!(storage["Drives"].as_array().unwrap().len(), s.drives.len());
        for (n, d) in s.drives.iter().enumerate() {
            let drive = client.get_json(&s.drive_odata_id(n + 1)).await;
            assert_eq!(drive["CapacityBytes"], d.capacity_gib << 30);
            assert_eq!(drive["MediaType"], d.media.as_str());
        }
    }
    let drawer = client.get_json("/redfish/v1/Chassis/Drawer2").await;
    let systems: Vec<&str> = drawer["Links"]["ComputerSystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["@odata.id"].as_str().unwrap())
        .collect();
    assert_eq!(systems.first(), Some(&"/redfish/v1/Systems/9"));
    assert_eq!(systems.len(), 8);
    let rack = client.get_json("/redfish/v1/Chassis/Rack1").await;
    assert_eq!(rack["Links"]["Contains"].as_array().unwrap().len(), 3);
    assert_eq!(
        rack["Links"]["ComputerSystems"].as_array().unwrap().len(),
        20
    );
    let pod = client.get_json("/redfish/v1/Chassis/Pod1").await;
    assert_eq!(
        pod["Links"]["Contains"][0]["@odata.id"],
        "/redfish/v1/Chassis/Rack1"
    );
}
