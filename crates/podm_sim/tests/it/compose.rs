//! Composition over HTTP as a client does it: discover, Allocate, Assemble, follow the state,
//! Reset, PATCH Boot, DELETE; conflicts, schema errors and wrong states.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use valence_podm_sim::{Behavior, Health, RsdVersion, SimConfig};

use crate::client::{Client, path_of};
use crate::{action_target, allocate, allocate_ok, eventually, fixture, message_ids, sim};

async fn node_state(client: &Client, node: &str) -> String {
    client.get_json(node).await["ComposedNodeState"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn compose_flow_end_to_end() {
    for version in RsdVersion::ALL {
        let (podm, client) = sim(SimConfig {
            version,
            systems: 6,
            seed: 12,
            ..SimConfig::default()
        })
        .await;
        let resp = allocate(
            &client,
            &json!({
                "Name": "web-1",
                "Description": "composed by a test",
                "Processors": [{"TotalCores": 2, "InstructionSet": "x86-64"}],
                "Memory": [{"CapacityMiB": 8192}],
                "TotalSystemMemoryMiB": 16384
            }),
        )
        .await;
        assert_eq!(
            resp.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&resp.body)
        );
        let location = resp.header("location").unwrap().to_owned();
        assert!(
            location.starts_with(&podm.base_url()),
            "absolute Location {location}"
        );
        let node = path_of(&location);
        let body = client.get_json(&node).await;
        assert_eq!(body["ComposedNodeState"], "Allocated");
        assert_eq!(body["Name"], "web-1");
        assert_eq!(body["Description"], "composed by a test");
        let system = body["Links"]["ComputerSystem"]["@odata.id"]
            .as_str()
            .unwrap()
            .to_owned();
        let system_body = client.get_json(&system).await;
        assert_eq!(
            system_body["Links"]["Oem"]["Intel_RackScale"]["ComposedNode"]["@odata.id"],
            node.as_str()
        );
        let spec = podm
            .inventory()
            .system(system_body["Id"].as_str().unwrap())
            .unwrap();
        assert!(spec.memory_mib() >= 16384 && spec.cpu.instruction_set == "x86-64");
        assert_eq!(podm.stats().free_systems, 5);

        let nodes = client.get_json("/redfish/v1/Nodes").await;
        assert_eq!(nodes["Members@odata.count"], 1);
        assert_eq!(nodes["Members"][0]["@odata.id"], node.as_str());

        let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
        let resp = client.post(&assemble, &json!({})).await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert_eq!(node_state(&client, &node).await, "Assembled");
        assert_eq!(podm.stats().nodes_assembled, 1);

        let reset = action_target(&client, &node, "#ComposedNode.Reset").await;
        let resp = client.post(&reset, &json!({"ResetType": "On"})).await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert_eq!(client.get_json(&node).await["PowerState"], "On");
        assert_eq!(client.get_json(&system).await["PowerState"], "On");
        let resp = client
            .post(&reset, &json!({"ResetType": "GracefulShutdown"}))
            .await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert_eq!(podm.nodes()[0].power_state, "Off");

        let resp = client.delete(&node).await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert_eq!(client.get(&node).await.status, StatusCode::NOT_FOUND);
        let system_body = client.get_json(&system).await;
        assert_eq!(system_body["Links"]["Oem"], json!({}));
        let stats = podm.stats();
        assert_eq!((stats.nodes, stats.free_systems), (0, 6), "RSD {version}");
        assert_eq!((stats.allocations, stats.node_deletions), (1, 1));
    }
}

/// A fresh PODM of 40 systems (seed 5) per request, so requests do not take each other's systems.
async fn fresh() -> (valence_podm_sim::SimPodm, Client) {
    sim(SimConfig {
        systems: 40,
        seed: 5,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn allocation_picks_a_system_that_satisfies_the_request() {
    let (podm, client) = fresh().await;
    let inv = podm.inventory();
    let max_cores = inv.systems.iter().map(|s| s.total_cores()).max().unwrap();
    let node = allocate_ok(&client, &json!({"TotalSystemCoreCount": max_cores})).await;
    let used = &podm.nodes()[0];
    assert_eq!(used.odata_id, node);
    assert_eq!(
        inv.system(&used.system_id).unwrap().total_cores(),
        max_cores
    );

    let (podm, client) = fresh().await;
    let inv = podm.inventory();
    let drive = inv
        .systems
        .iter()
        .flat_map(|s| s.drives.iter())
        .max_by_key(|d| d.capacity_gib)
        .unwrap();
    allocate_ok(
        &client,
        &json!({"LocalDrives": [{"CapacityGiB": drive.capacity_gib, "Type": drive.media.as_str()}]}),
    )
    .await;
    let spec = inv.system(&podm.nodes()[0].system_id).unwrap();
    assert!(
        spec.drives
            .iter()
            .any(|d| d.capacity_gib >= drive.capacity_gib)
    );

    let (podm, client) = fresh().await;
    let inv = podm.inventory();
    // "E5-2680", "6148", "CN9980", ...
    let model_part = inv.systems[7]
        .cpu
        .model
        .split(' ')
        .nth(3)
        .unwrap()
        .to_owned();
    allocate_ok(&client, &json!({"Processors": [{"Model": model_part}]})).await;
    let spec = inv.system(&podm.nodes()[0].system_id).unwrap();
    assert!(
        spec.cpu.model.contains(&model_part),
        "{} for {model_part}",
        spec.cpu.model
    );
}

#[tokio::test]
async fn allocation_conflict_has_the_podm_error_shape() {
    let (podm, client) = sim(SimConfig {
        systems: 2,
        ..SimConfig::default()
    })
    .await;
    allocate_ok(&client, &json!({"Name": "a"})).await;
    allocate_ok(&client, &json!({"Name": "b"})).await;
    let resp = allocate(&client, &json!({"Name": "c"})).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    let body = resp.json();
    let sample = fixture("valence/fake_allocate_node_conflict.json");
    assert_eq!(body["error"]["code"], sample["error"]["code"]);
    assert_eq!(body["error"]["message"], sample["error"]["message"]);
    let infos = body["error"]["@Message.ExtendedInfo"].as_array().unwrap();
    assert_eq!(
        infos[0]["Message"],
        sample["error"]["@Message.ExtendedInfo"][0]["Message"]
    );
    assert_eq!(
        infos.last().unwrap()["Message"],
        "Available assets count after applying filters: [available: 0 -> status: 0 -> resource: 0 -> chassis: 0 -> processors: 0 -> memory: 0 -> local drives: 0 -> ethernet interfaces: 0]"
    );
    assert_eq!(podm.stats().allocation_conflicts, 1);

    // free systems that do not fit are counted through the filters
    let (_podm, client) = sim(SimConfig {
        systems: 3,
        ..SimConfig::default()
    })
    .await;
    let resp = allocate(&client, &json!({"TotalSystemMemoryMiB": 1_000_000_000})).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    let body = resp.json();
    let last = body["error"]["@Message.ExtendedInfo"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["Message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(last.contains("processors: 3 -> memory: 0"), "{last}");
}

#[tokio::test]
async fn a_string_for_a_number_is_a_400_naming_the_field() {
    let (podm, client) = sim(SimConfig::default()).await;
    let resp = allocate(&client, &json!({"Memory": [{"CapacityMiB": "8000"}]})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let body = resp.json();
    assert_eq!(body["error"]["code"], "Base.1.0.InvalidPayload");
    assert!(body["error"]["message"].is_string());
    let info = &body["error"]["@Message.ExtendedInfo"][0];
    assert_eq!(info["MessageId"], "Base.1.0.PropertyValueTypeError");
    assert_eq!(info["RelatedProperties"], json!(["#/Memory/0/CapacityMiB"]));
    let message = info["Message"].as_str().unwrap();
    assert!(
        message.contains("Memory[0].CapacityMiB") && message.contains("\"8000\""),
        "{message}"
    );
    assert_eq!(podm.stats().nodes, 0, "nothing allocated");

    let resp = allocate(
        &client,
        &json!({"Processors": [{"InstructionSet": "Z80"}], "Colour": "blue"}),
    )
    .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let ids = message_ids(&resp.json());
    assert!(
        ids.contains(&"Base.1.0.PropertyUnknown".to_owned()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"Base.1.0.PropertyValueNotInList".to_owned()),
        "{ids:?}"
    );

    let target = crate::allocate_target(&client).await;
    let resp = client
        .try_send(http::Method::POST, &target, Some(b"{\"Name\":".to_vec()))
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.MalformedJSON"]);
}

#[tokio::test]
async fn assemble_in_a_wrong_state_fails_like_a_podm() {
    let (podm, client) = sim(SimConfig {
        systems: 3,
        behavior: Behavior {
            allocation_delay: Duration::from_secs(600),
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    assert_eq!(node_state(&client, &node).await, "Allocating");
    let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
    let resp = client.post(&assemble, &json!({})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let body = resp.json();
    let sample = fixture("valence/fake_assemble_node_failed.json");
    assert_eq!(body["error"]["code"], sample["error"]["code"]);
    let text = body.to_string();
    assert!(
        text.contains("Only composed node in ALLOCATED state can be assembled"),
        "{text}"
    );

    // assembled nodes cannot be assembled again
    podm.update_behavior(|b| b.allocation_delay = Duration::ZERO)
        .unwrap();
    let node = allocate_ok(&client, &json!({})).await;
    let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
    assert_eq!(
        client.post(&assemble, &json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client.post(&assemble, &json!({})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        client
            .post(
                "/redfish/v1/Nodes/999/Actions/ComposedNode.Assemble",
                &json!({})
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn states_advance_after_the_configured_delays() {
    let (podm, client) = sim(SimConfig {
        systems: 2,
        behavior: Behavior {
            allocation_delay: Duration::from_millis(100),
            assembly_delay: Duration::from_millis(100),
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    eventually(Duration::from_secs(5), "node allocated", || async {
        node_state(&client, &node).await == "Allocated"
    })
    .await;
    let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
    assert_eq!(
        client.post(&assemble, &json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    eventually(Duration::from_secs(5), "node assembled", || async {
        node_state(&client, &node).await == "Assembled"
    })
    .await;

    // while assembling, a reset is refused
    podm.update_behavior(|b| b.assembly_delay = Duration::from_secs(600))
        .unwrap();
    podm.update_behavior(|b| b.allocation_delay = Duration::ZERO)
        .unwrap();
    let node = allocate_ok(&client, &json!({})).await;
    let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
    assert_eq!(
        client.post(&assemble, &json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(node_state(&client, &node).await, "Assembling");
    let reset = action_target(&client, &node, "#ComposedNode.Reset").await;
    let resp = client.post(&reset, &json!({"ResetType": "On"})).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_configured_fraction_of_assemblies_fails() {
    let (podm, client) = sim(SimConfig {
        systems: 2,
        behavior: Behavior {
            assembly_failure_rate: 1.0,
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
    assert_eq!(
        client.post(&assemble, &json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let body = client.get_json(&node).await;
    assert_eq!(body["ComposedNodeState"], "Failed");
    assert_eq!(body["Status"]["Health"], "Critical");
    assert_eq!(client.delete(&node).await.status, StatusCode::NO_CONTENT);
    assert_eq!(podm.stats().free_systems, 2);
}

#[tokio::test]
async fn reset_type_is_checked_against_the_allowable_values() {
    let (_podm, client) = sim(SimConfig::default()).await;
    let node = allocate_ok(&client, &json!({})).await;
    let assemble = action_target(&client, &node, "#ComposedNode.Assemble").await;
    client.post(&assemble, &json!({})).await;
    let body = client.get_json(&node).await;
    let reset = &body["Actions"]["#ComposedNode.Reset"];
    let allowed = reset["ResetType@Redfish.AllowableValues"]
        .as_array()
        .unwrap();
    assert!(allowed.contains(&json!("ForceOff")));
    let target = reset["target"].as_str().unwrap();

    let resp = client.post(target, &json!({"ResetType": "Explode"})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let body = resp.json();
    assert_eq!(message_ids(&body), ["Base.1.0.PropertyValueNotInList"]);
    assert_eq!(
        body["error"]["@Message.ExtendedInfo"][0]["RelatedProperties"],
        json!(["#/ResetType"])
    );
    let resp = client.post(target, &json!({})).await;
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.PropertyMissing"]);
    let resp = client.post(target, &json!({"ResetType": 1})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    for value in allowed {
        let resp = client.post(target, &json!({"ResetType": value})).await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT, "{value}");
    }
}

#[tokio::test]
async fn boot_override_is_patched_within_the_allowable_values() {
    let (_podm, client) = sim(SimConfig::default()).await;
    let node = allocate_ok(&client, &json!({})).await;
    let resp = client
        .patch(
            &node,
            &json!({"Boot": {"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget": "Pxe"}}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    let boot = &client.get_json(&node).await["Boot"];
    assert_eq!(boot["BootSourceOverrideEnabled"], "Once");
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe");

    let resp = client
        .patch(
            &node,
            &json!({"Boot": {"BootSourceOverrideTarget": "Floppy"}}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let body = resp.json();
    assert_eq!(
        body["error"]["@Message.ExtendedInfo"][0]["RelatedProperties"],
        json!(["#/Boot/BootSourceOverrideTarget"])
    );
    // a refused PATCH changes nothing
    let resp = client
        .patch(
            &node,
            &json!({"Boot": {"BootSourceOverrideEnabled": "Continuous", "BootSourceOverrideMode": "BIOS"}}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        client.get_json(&node).await["Boot"]["BootSourceOverrideEnabled"],
        "Once"
    );

    let resp = client.patch(&node, &json!({"Id": "7"})).await;
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.PropertyNotWritable"]);
    let resp = client.patch(&node, &json!({"Colour": "red"})).await;
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.PropertyUnknown"]);
}

#[tokio::test]
async fn delete_frees_the_system_and_can_be_made_to_fail() {
    let (podm, client) = sim(SimConfig {
        systems: 1,
        behavior: Behavior {
            delete_failure_rate: 1.0,
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    assert_eq!(
        allocate(&client, &json!({})).await.status,
        StatusCode::CONFLICT
    );
    let resp = client.delete(&node).await;
    assert_eq!(resp.status, StatusCode::INTERNAL_SERVER_ERROR);
    let sample = fixture("valence/fake_delete_composednode_fail.json");
    assert_eq!(resp.json()["error"]["code"], sample["error"]["code"]);
    assert_eq!(podm.stats().nodes, 1);

    podm.update_behavior(|b| b.delete_failure_rate = 0.0)
        .unwrap();
    assert_eq!(client.delete(&node).await.status, StatusCode::NO_CONTENT);
    assert_eq!(client.delete(&node).await.status, StatusCode::NOT_FOUND);
    assert_eq!(podm.free_system_ids(), ["1"]);
    let again = allocate_ok(&client, &json!({})).await;
    assert_ne!(again, node, "node ids are not reused");
}

#[tokio::test]
async fn critical_systems_are_not_allocated() {
    let (podm, client) = sim(SimConfig {
        systems: 2,
        ..SimConfig::default()
    })
    .await;
    assert!(podm.set_system_health("1", Health::Critical));
    assert!(!podm.set_system_health("3", Health::Critical));
    assert_eq!(
        client.get_json("/redfish/v1/Systems/1").await["Status"]["Health"],
        "Critical"
    );
    allocate_ok(&client, &json!({})).await;
    assert_eq!(podm.nodes()[0].system_id, "2");
    let resp = allocate(&client, &json!({})).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(
        resp.json()
            .to_string()
            .contains("available: 1 -> status: 0")
    );
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths_get_redfish_errors() {
    let (_podm, client) = sim(SimConfig::default()).await;
    let resp = client.delete("/redfish/v1/Systems/1").await;
    assert_eq!(resp.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.header("allow"), Some("GET"));
    assert!(resp.json()["error"]["code"].is_string());
    let resp = client.get("/redfish/v1/Systems/99").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.ResourceMissingAtURI"]);
    assert_eq!(
        client.get("/redfish/v1/Nodes/01").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(client.get("/elsewhere").await.status, StatusCode::NOT_FOUND);
    assert_eq!(client.get_json("/redfish").await["v1"], "/redfish/v1/");
}
