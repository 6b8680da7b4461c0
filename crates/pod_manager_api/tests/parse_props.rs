//! Property tests of PODM response parsing: arbitrary bytes and arbitrary JSON documents (built
//! from the names Redfish and RSD use, with values of every type and size) through every parse
//! function. None may panic; an error names the URL the document came from and the field at
//! fault; what is read stays within what the document said (no wrapped sums).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use valence_pod_manager_api::ServiceRoot;
use valence_pod_manager_api::parse::{self, SystemParts};

/// Names the parse functions read, and their RSD 1.x and odd spellings.
const KEYS: &[&str] = &[
    "@odata.id",
    "Id",
    "Name",
    "UUID",
    "Description",
    "Status",
    "Health",
    "HealthRollup",
    "State",
    "PowerState",
    "SystemType",
    "ProcessorSummary",
    "Count",
    "Model",
    "CoreCount",
    "MemorySummary",
    "TotalSystemMemoryGiB",
    "Processors",
    "Memory",
    "EthernetInterfaces",
    "Storage",
    "SimpleStorage",
    "Links",
    "Chassis",
    "Oem",
    "Intel_RackScale",
    "Intel:RackScale",
    "ComposedNode",
    "TotalCores",
    "InstructionSet",
    "ProcessorType",
    "CapacityMiB",
    "MemoryDeviceType",
    "MACAddress",
    "PermanentMACAddress",
    "CapacityBytes",
    "CapacityGiB",
    "MediaType",
    "Type",
    "Drives",
    "Devices",
    "ComposedNodeState",
    "ComputerSystem",
    "ChassisType",
    "Manufacturer",
    "SerialNumber",
    "Location",
    "ComputerSystems",
    "Contains",
    "ConnectedEntities",
    "EntityRole",
    "EntityLink",
    "EntityType",
    "EndpointProtocol",
    "Members",
    "Members@odata.nextLink",
    "Actions",
    "#ComposedNode.Reset",
    "target",
    "ResetType@Redfish.AllowableValues",
    "ResetType@DMTF.AllowableValues",
    "RedfishVersion",
    "ApiVersion",
    "Systems",
    "Nodes",
    "Fabrics",
    "CompositionService",
    "SessionService",
    "Sessions",
    "ProtocolFeaturesSupported",
    "ExpandQuery",
    "NoLinks",
    "ExpandAll",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Numbers at the edges: what overflows a sum, a cast or a parse.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(u32::MAX)),
        Just(json!(u64::from(u32::MAX) + 1)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e300)),
        Just(json!(1.5)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("/".to_owned()),
        Just("/redfish/v1/Systems/1/".to_owned()),
        Just("https://podm:8443/redfish/v1/Nodes/2#/frag".to_owned()),
        Just("://".to_owned()),
        Just("4294967296".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("1e400".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("-0".to_owned()),
        Just("2.3.0".to_owned()),
        Just("Critical".to_owned()),
        Just("Assembled".to_owned()),
        Just("CPU".to_owned()),
        Just("Target".to_owned()),
        Just("Rack".to_owned()),
        Just("Composed".to_owned()),
        Just("Absent".to_owned()),
        "[a-zA-Z0-9/#:._-]{0,24}",
        any::<String>(),
    ]
}

/// A Redfish-looking JSON value of any shape.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
        text().prop_map(|t| json!({"@odata.id": t})),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON object (documents are objects; the functions still get anything inside them).
fn document() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(key(), json_value(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
}

/// A member's value, mostly a plain number or string (what a field holds, right or wrong).
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => number(),
        2 => text().prop_map(Value::String),
        1 => prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool)],
        1 => json_value(),
    ]
}

/// An object whose members are drawn from `keys` only, so every function meets its own fields.
fn document_of(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(
        proptest::sample::select(keys),
        field_value(),
        0..=keys.len(),
    )
    .prop_map(|m| {
        Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

fn url() -> impl Strategy<Value = String> {
    "/redfish/v1/[A-Za-z]{1,8}/[0-9]{1,3}"
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_decode_or_fail_naming_the_url(url in url(), body in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..128),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // A document cut short, as a PODM that closes the connection mid-body sends it.
        (document(), any::<proptest::sample::Index>()).prop_map(|(v, cut)| {
            let bytes = serde_json::to_vec(&v).unwrap();
            bytes[..cut.index(bytes.len() + 1)].to_vec()
        }),
    ]) {
        match parse::document(&url, &body) {
            Ok(value) => prop_assert!(value.is_object()),
            Err(err) => prop_assert!(err.to_string().contains(&url), "{err}"),
        }
    }

    #[test]
    fn collections_give_their_links_or_name_the_url_and_members(url in url(), doc in prop_oneof![
        document(),
        document_of(&["Members", "Members@odata.nextLink", "@odata.id"]),
    ]) {
        match parse::collection_members(&url, &doc) {
            Ok(links) => {
                for link in &links {
                    prop_assert!(!link.is_empty());
                    prop_assert!(!link.contains('#'), "{link}");
                    prop_assert!(link == "/" || !link.ends_with('/'), "{link}");
                }
            }
            Err(err) => {
                let text = err.to_string();
                prop_assert!(text.contains(&url) && text.contains("Members"), "{text}");
            }
        }
    }

    #[test]
    fn nodes_parse_or_name_the_url_and_their_state(url in url(), doc in prop_oneof![
        document(),
        document_of(&["@odata.id", "Id", "Name", "ComposedNodeState", "PowerState", "Links", "Description", "UUID"]),
    ]) {
        match parse::node(&url, &doc) {
            Ok(node) => {
                prop_assert!(doc.get("ComposedNodeState").and_then(Value::as_str).is_some());
                prop_assert!(!node.index.is_empty() || node.resource_uri.is_empty() || node.resource_uri == "/");
            }
            Err(err) => {
                let text = err.to_string();
                prop_assert!(text.contains(&url) && text.contains("ComposedNodeState"), "{text}");
            }
        }
        let _ = parse::composed_system_as_node(&url, &doc);
        let _ = parse::is_composed_system(&doc);
    }

    #[test]
    fn service_roots_parse_or_name_the_url(url in url(), doc in prop_oneof![
        document(),
        document_of(&["Systems", "Chassis", "Nodes", "Oem", "UUID", "RedfishVersion", "SessionService", "Links", "CompositionService", "Fabrics", "ProtocolFeaturesSupported"]),
    ]) {
        match ServiceRoot::parse(&url, &doc) {
            Ok(root) => {
                prop_assert!(root.systems.is_some() || root.nodes.is_some() || root.chassis.is_some());
                let _ = (root.detect_driver(), root.rsd_version(), root.offers_sessions());
            }
            Err(err) => prop_assert!(err.to_string().contains(&url), "{err}"),
        }
    }

    /// A system and its parts as any PODM may send them: the summary never wraps a sum around
    /// (a PODM reporting absurd figures reads as huge, not as small).
    #[test]
    fn systems_summarize_without_wrapping(
        url in url(),
        system in prop_oneof![
            document(),
            document_of(&["@odata.id", "Id", "ProcessorSummary", "MemorySummary", "Processors", "Memory", "Storage", "SimpleStorage", "Links", "Status", "SystemType"]),
        ],
        processors in proptest::collection::vec(document_of(&["TotalCores", "Model", "InstructionSet", "ProcessorType"]), 0..6),
        dimms in proptest::collection::vec(document_of(&["CapacityMiB", "MemoryDeviceType"]), 0..6),
        nics in proptest::collection::vec(document_of(&["MACAddress", "PermanentMACAddress"]), 0..3),
        drives in proptest::collection::vec(document_of(&["CapacityBytes", "CapacityGiB", "MediaType", "Type"]), 0..4),
        simple in document_of(&["Devices"]),
        storage in document_of(&["Drives"]),
    ) {
        let doc = parse::system(&url, &system);
        let processors: Vec<_> = processors.iter().map(|p| parse::processor(&url, p)).collect();
        let dimms: Vec<_> = dimms.iter().map(|d| parse::memory(&url, d)).collect();
        let cores: Vec<u32> = processors.iter().filter(|p| p.is_cpu).filter_map(|p| p.cores).collect();
        let modules: Vec<u64> = dimms.iter().filter_map(|d| d.capacity_mib).collect();
        let mut drive_list: Vec<_> = drives.iter().map(|d| parse::drive(&url, d)).collect();
        drive_list.extend(parse::simple_storage(&url, &simple));
        let _ = parse::storage_drives(&url, &storage);
        let parts = SystemParts {
            processors,
            dimms,
            mac_addresses: nics.iter().filter_map(|n| parse::ethernet_mac(&url, n)).collect(),
            drives: drive_list,
            composed_node: None,
        };
        let summary_memory = doc.summary_memory_gib.filter(|gib| *gib * 1024.0 >= 0.5);
        let summary = parse::summarize(doc, parts);
        for c in &cores {
            prop_assert!(summary.total_cores >= *c, "{} cores < one CPU's {c}", summary.total_cores);
        }
        if summary_memory.is_none() {
            for m in &modules {
                prop_assert!(summary.memory_mib >= *m, "{} MiB < one module's {m}", summary.memory_mib);
            }
        }
    }

    #[test]
    fn racks_endpoints_and_actions_never_panic(url in url(), doc in prop_oneof![
        document(),
        document_of(&["ChassisType", "@odata.id", "Id", "Links", "Oem", "Status", "Name"]),
        document_of(&["ConnectedEntities", "@odata.id", "Id", "EndpointProtocol", "Status", "Name"]),
        document_of(&["Actions"]),
    ]) {
        if let Some(rack) = parse::rack(&url, &doc) {
            prop_assert!(doc.get("ChassisType").and_then(Value::as_str).is_some());
            prop_assert!(!rack.resource_uri.is_empty());
        }
        if let Some(device) = parse::endpoint_device(&url, &doc) {
            prop_assert!(!device.endpoint_uri.is_empty());
        }
        let _ = parse::action_target(&doc, "#ComposedNode.Reset");
        let _ = parse::action_allowable_values(&doc, "#ComposedNode.Reset", "ResetType");
    }
}
