//! Pooled drives over HTTP as a client meets them: the fabric, its endpoints and their targets
//! per RSD version, attach and detach in each version's spelling, the refusals, zones, and the
//! pool changing while the PODM runs.

use http::StatusCode;
use serde_json::{Value, json};
use valence_podm_sim::{Behavior, RsdVersion, SimConfig, pooled_drive, pooled_drives};

use crate::client::Client;
use crate::{action_target, allocate_ok, message_ids, sim};

/// The first (only) fabric, found from the service root.
pub async fn fabric_path(client: &Client) -> String {
    let root = client.get_json("/redfish/v1").await;
    let fabrics = root["Fabrics"]["@odata.id"].as_str().unwrap().to_owned();
    let fabrics = client.get_json(&fabrics).await;
    fabrics["Members"][0]["@odata.id"]
        .as_str()
        .expect("a fabric")
        .to_owned()
}

/// The attach (or detach) action of the node: its target and the `Resource` values it allows,
/// inline (RSD 2.1, 2.2) or from its ActionInfo (RSD 2.3).
pub async fn device_action(client: &Client, node: &str, attach: bool) -> (String, Vec<String>) {
    let body = client.get_json(node).await;
    let names: [&str; 2] = if attach {
        [
            "#ComposedNode.AttachResource",
            "#ComposedNode.AttachEndpoint",
        ]
    } else {
        [
            "#ComposedNode.DetachResource",
            "#ComposedNode.DetachEndpoint",
        ]
    };
    let action = names
        .iter()
        .find_map(|n| body["Actions"].get(*n))
        .unwrap_or_else(|| panic!("{node} offers none of {names:?}"));
    let target = action["target"].as_str().unwrap().to_owned();
    let values = match action.get("Resource@Redfish.AllowableValues") {
        Some(values) => values.clone(),
        None => {
            let info = action["@Redfish.ActionInfo"]["@odata.id"].as_str().unwrap();
            let info = client.get_json(info).await;
            info["Parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["Name"] == "Resource")
                .unwrap()["AllowableValues"]
                .clone()
        }
    };
    let allowed = values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["@odata.id"].as_str().unwrap().to_owned())
        .collect();
    (target, allowed)
}

/// Attaches the first attachable target to `node`; returns its `@odata.id`.
pub async fn attach_first(client: &Client, node: &str) -> String {
    let (target, allowed) = device_action(client, node, true).await;
    let resource = allowed.first().expect("something to attach").clone();
    let resp = client
        .post(&target, &json!({"Resource": {"@odata.id": resource}}))
        .await;
    assert_eq!(
        resp.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    resource
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|l| l["@odata.id"].as_str().unwrap().to_owned())
        .collect()
}

async fn assembled_node(client: &Client, name: &str) -> String {
    let node = allocate_ok(client, &json!({ "Name": name })).await;
    let assemble = action_target(client, &node, "#ComposedNode.Assemble").await;
    assert_eq!(
        client.post(&assemble, &json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    node
}

#[tokio::test]
async fn the_pool_is_served_as_each_version_does() {
    for version in RsdVersion::ALL {
        let (podm, client) = sim(SimConfig {
            version,
            systems: 4,
            seed: 31,
            pooled_drives: 5,
            ..SimConfig::default()
        })
        .await;
        let fabric = fabric_path(&client).await;
        let expected_fabric = if version == RsdVersion::V2_3 {
            "/redfish/v1/Fabrics/NVMeoE"
        } else {
            "/redfish/v1/Fabrics/PCIe"
        };
        assert_eq!(fabric, expected_fabric, "RSD {version}");
        let body = client.get_json(&fabric).await;
        let endpoints = client
            .get_json(body["Endpoints"]["@odata.id"].as_str().unwrap())
            .await;
        assert_eq!(endpoints["Members@odata.count"], 5, "RSD {version}");
        let specs = pooled_drives(31, 5);
        for (member, spec) in ids(&endpoints["Members"]).iter().zip(&specs) {
            let endpoint = client.get_json(member).await;
            assert_eq!(endpoint["Name"], spec.name());
            let entity = &endpoint["ConnectedEntities"][0];
            assert_eq!(entity["EntityRole"], "Target");
            let target = entity["EntityLink"]["@odata.id"].as_str().unwrap();
            let resource = client.get_json(target).await;
            assert_eq!(resource["CapacityBytes"], spec.capacity_gib << 30);
            let drive = if version == RsdVersion::V2_3 {
                assert_eq!(entity["EntityType"], "Volume");
                assert!(target.starts_with("/redfish/v1/StorageServices/1/Volumes/"));
                assert_eq!(endpoint["EndpointProtocol"], "NVMeOverFabrics");
                let drive = resource["Links"]["Drives"][0]["@odata.id"]
                    .as_str()
                    .unwrap();
                client.get_json(drive).await
            } else {
                assert_eq!(entity["EntityType"], "Drive");
                assert!(target.starts_with("/redfish/v1/Chassis/PCIeSwitch1/Drives/Disk.Bay."));
                assert_eq!(endpoint["EndpointProtocol"], "PCIe");
                resource
            };
            assert_eq!(drive["Protocol"], "NVMe");
            assert_eq!(drive["SerialNumber"], spec.serial_number.as_str());
            assert_eq!(drive["Model"], spec.model);
        }
        // The handle tells the same story.
        let pool = podm.pooled_drives();
        assert_eq!(pool.len(), 5);
        assert!(pool.iter().all(|d| d.attached_to.is_none()));
        assert_eq!(
            ids(&endpoints["Members"]),
            pool.iter()
                .map(|d| d.endpoint_odata_id.clone())
                .collect::<Vec<_>>()
        );
        let zones = client.get_json(&format!("{fabric}/Zones")).await;
        assert_eq!(zones["Members@odata.count"], 0);
    }
}

#[tokio::test]
async fn an_empty_pool_still_has_its_fabric() {
    let (podm, client) = sim(SimConfig {
        pooled_drives: 0,
        ..SimConfig::default()
    })
    .await;
    let fabric = fabric_path(&client).await;
    let endpoints = client.get_json(&format!("{fabric}/Endpoints")).await;
    assert_eq!(endpoints["Members@odata.count"], 0);
    let node = allocate_ok(&client, &json!({})).await;
    let (_, allowed) = device_action(&client, &node, true).await;
    assert!(allowed.is_empty());
    assert_eq!(podm.stats().pooled_drives, 0);
}

#[tokio::test]
async fn attach_and_detach_in_each_versions_spelling() {
    for version in RsdVersion::ALL {
        let (podm, client) = sim(SimConfig {
            version,
            systems: 4,
            seed: 8,
            pooled_drives: 3,
            ..SimConfig::default()
        })
        .await;
        let node = assembled_node(&client, "with-drive").await;
        let other = assembled_node(&client, "other").await;
        let (attach, allowed) = device_action(&client, &node, true).await;
        let spelled = if version == RsdVersion::V2_3 {
            "ComposedNode.AttachResource"
        } else {
            "ComposedNode.AttachEndpoint"
        };
        assert_eq!(attach, format!("{node}/Actions/{spelled}"), "RSD {version}");
        let pool = podm.pooled_drives();
        let all: Vec<String> = pool.iter().map(|d| d.resource_odata_id.clone()).collect();
        assert_eq!(allowed, all, "RSD {version}: every drive is free");
        let (_, detachable) = device_action(&client, &node, false).await;
        assert!(detachable.is_empty());

        let chosen = all[1].clone();
        let resp = client
            .post(&attach, &json!({"Resource": {"@odata.id": chosen}}))
            .await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT, "RSD {version}");
        let node_id = node.rsplit('/').next().unwrap();
        assert_eq!(
            podm.attached_devices(node_id),
            std::slice::from_ref(&chosen)
        );
        assert_eq!(podm.attached_devices(&node), std::slice::from_ref(&chosen));
        assert_eq!(
            podm.pooled_drives()[1].attached_to.as_deref(),
            Some(node_id)
        );
        let stats = podm.stats();
        assert_eq!((stats.attachments, stats.pooled_drives_attached), (1, 1));
        assert_eq!(
            podm.request_count(
                "POST",
                &format!("/redfish/v1/Nodes/{{id}}/Actions/{spelled}")
            ),
            1
        );

        // The node lists it; nobody else may attach it; only this node may detach it.
        let body = client.get_json(&node).await;
        let listed = if version == RsdVersion::V2_3 {
            ids(&body["Links"]["RemoteDrives"])
        } else {
            ids(&body["Links"]["LocalDrives"])
        };
        assert!(listed.contains(&chosen), "RSD {version}: {listed:?}");
        let (_, allowed) = device_action(&client, &other, true).await;
        assert!(!allowed.contains(&chosen));
        assert_eq!(allowed.len(), 2);
        let (detach, detachable) = device_action(&client, &node, false).await;
        assert_eq!(detachable, std::slice::from_ref(&chosen));
        let (other_detach, other_detachable) = device_action(&client, &other, false).await;
        assert!(other_detachable.is_empty());
        let refused = client
            .post(&other_detach, &json!({"Resource": {"@odata.id": chosen}}))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            message_ids(&refused.json()),
            ["Base.1.0.PropertyValueNotInList"]
        );
        let again = client
            .post(&attach, &json!({"Resource": {"@odata.id": chosen}}))
            .await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "attached twice");

        // The fabric shows the attachment: a zone of the node's initiator and the target.
        let fabric = fabric_path(&client).await;
        let zone = client.get_json(&format!("{fabric}/Zones/{node_id}")).await;
        let members = ids(&zone["Links"]["Endpoints"]);
        let endpoint = &pool[1].endpoint_odata_id;
        assert_eq!(members.len(), 2, "{members:?}");
        assert_eq!(&members[1], endpoint);
        let initiator = client.get_json(&members[0]).await;
        assert_eq!(initiator["ConnectedEntities"][0]["EntityRole"], "Initiator");
        let system = body["Links"]["ComputerSystem"]["@odata.id"]
            .as_str()
            .unwrap();
        let system = client.get_json(system).await;
        assert_eq!(ids(&system["Links"]["Endpoints"]), [members[0].clone()]);
        if version == RsdVersion::V2_3 {
            let target = client.get_json(endpoint).await;
            assert_eq!(
                ids(&target["Links"]["Oem"]["Intel_RackScale"]["Zones"]),
                [format!("{fabric}/Zones/{node_id}")]
            );
        }

        let resp = client
            .post(&detach, &json!({"Resource": {"@odata.id": chosen}}))
            .await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert!(podm.attached_devices(node_id).is_empty());
        assert_eq!(podm.stats().detachments, 1);
        assert_eq!(
            client
                .get(&format!("{fabric}/Zones/{node_id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(client.get(&members[0]).await.status, StatusCode::NOT_FOUND);
        let body = client.get_json(&node).await;
        let listed = if version == RsdVersion::V2_3 {
            ids(&body["Links"]["RemoteDrives"])
        } else {
            ids(&body["Links"]["LocalDrives"])
        };
        assert!(!listed.contains(&chosen), "RSD {version}: {listed:?}");
        let (_, allowed) = device_action(&client, &other, true).await;
        assert_eq!(allowed.len(), 3);
    }
}

#[tokio::test]
async fn bad_attach_requests_name_the_property_at_fault() {
    let (podm, client) = sim(SimConfig {
        pooled_drives: 2,
        ..SimConfig::default()
    })
    .await;
    let node = assembled_node(&client, "n").await;
    let (attach, allowed) = device_action(&client, &node, true).await;
    let refuse = |body: Value, id: &'static str, property: &'static str| {
        let client = &client;
        let attach = &attach;
        async move {
            let resp = client.post(attach, &body).await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}");
            let json = resp.json();
            assert_eq!(message_ids(&json), [id], "{body}: {json}");
            let info = &json["error"]["@Message.ExtendedInfo"][0];
            assert_eq!(
                info["RelatedProperties"][0],
                format!("#/{property}"),
                "{json}"
            );
            info["Message"].as_str().unwrap().to_owned()
        }
    };
    refuse(json!({}), "Base.1.0.PropertyMissing", "Resource").await;
    refuse(
        json!({"Resource": "/redfish/v1/StorageServices/1/Volumes/1"}),
        "Base.1.0.PropertyValueTypeError",
        "Resource",
    )
    .await;
    let message = refuse(
        json!({"Resource": {"@odata.id": "/redfish/v1/StorageServices/1/Volumes/9"}}),
        "Base.1.0.PropertyValueNotInList",
        "Resource",
    )
    .await;
    assert!(
        message.contains(&allowed[0]) && message.contains(&allowed[1]),
        "{message}"
    );
    refuse(
        json!({"Resource": {"@odata.id": allowed[0]}, "Force": true}),
        "Base.1.0.PropertyUnknown",
        "Force",
    )
    .await;
    refuse(
        json!({"Resource": {"@odata.id": allowed[0]}, "Protocol": "iSCSI"}),
        "Base.1.0.PropertyValueNotInList",
        "Protocol",
    )
    .await;
    let empty = client
        .try_send(http::Method::POST, &attach, Some(Vec::new()))
        .await
        .unwrap();
    assert_eq!(message_ids(&empty.json()), ["Base.1.0.MalformedJSON"]);
    assert_eq!(
        client.get(&attach).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // The other versions' spelling is not an action of this PODM; nor is an unknown node's.
    let old = attach.replace("AttachResource", "AttachEndpoint");
    let body = json!({"Resource": {"@odata.id": allowed[0]}});
    assert_eq!(client.post(&old, &body).await.status, StatusCode::NOT_FOUND);
    let unknown = attach.replace(&node, "/redfish/v1/Nodes/99");
    assert_eq!(
        client.post(&unknown, &body).await.status,
        StatusCode::NOT_FOUND
    );
    // With a protocol that fits and a trailing slash, it is accepted.
    let resp = client
        .post(
            &attach,
            &json!({"Resource": {"@odata.id": format!("{}/", allowed[0])}, "Protocol": "NVMeOverFabrics"}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(podm.stats().attachments, 1);
}

#[tokio::test]
async fn a_node_still_allocating_cannot_attach() {
    let (podm, client) = sim(SimConfig {
        behavior: Behavior {
            allocation_delay: std::time::Duration::from_secs(600),
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    let (attach, allowed) = device_action(&client, &node, true).await;
    let resp = client
        .post(&attach, &json!({"Resource": {"@odata.id": allowed[0]}}))
        .await;
    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert_eq!(
        message_ids(&resp.json()),
        ["Base.1.0.ResourcesStateMismatch"]
    );
    assert_eq!(podm.stats().attachments, 0);
}

#[tokio::test]
async fn deleting_a_node_detaches_its_drives() {
    let (podm, client) = sim(SimConfig::default()).await;
    let node = assembled_node(&client, "n").await;
    let first = attach_first(&client, &node).await;
    let second = attach_first(&client, &node).await;
    assert_eq!(podm.attached_devices(&node), [first, second]);
    assert_eq!(client.delete(&node).await.status, StatusCode::NO_CONTENT);
    assert!(podm.attached_devices(&node).is_empty());
    assert!(podm.pooled_drives().iter().all(|d| d.attached_to.is_none()));
    let fabric = fabric_path(&client).await;
    let zones = client.get_json(&format!("{fabric}/Zones")).await;
    assert_eq!(zones["Members@odata.count"], 0);
    let endpoints = client.get_json(&format!("{fabric}/Endpoints")).await;
    assert_eq!(endpoints["Members@odata.count"], 4, "no initiator left");
}

#[tokio::test]
async fn the_pool_changes_while_the_podm_runs() {
    for version in [RsdVersion::V2_1, RsdVersion::V2_3] {
        let (podm, client) = sim(SimConfig {
            version,
            seed: 44,
            pooled_drives: 2,
            ..SimConfig::default()
        })
        .await;
        let added = podm.add_pooled_drive();
        assert_eq!(added.number, 3);
        assert_eq!(added.capacity_gib, pooled_drive(44, 3).capacity_gib);
        let endpoints = client.get_json(&added.endpoint_odata_id).await;
        assert_eq!(endpoints["Name"], pooled_drive(44, 3).name());

        let node = assembled_node(&client, "n").await;
        let (attach, _) = device_action(&client, &node, true).await;
        let resp = client
            .post(
                &attach,
                &json!({"Resource": {"@odata.id": added.resource_odata_id}}),
            )
            .await;
        assert_eq!(resp.status, StatusCode::NO_CONTENT);

        // Pulling an attached drive takes it off the node and out of the fabric.
        assert!(podm.remove_pooled_drive(&added.resource_odata_id));
        assert!(!podm.remove_pooled_drive(&added.resource_odata_id));
        assert!(podm.attached_devices(&node).is_empty());
        assert_eq!(
            client.get(&added.endpoint_odata_id).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            client.get(&added.drive_odata_id).await.status,
            StatusCode::NOT_FOUND
        );
        // By its endpoint too; numbers are not reused.
        let first = podm.pooled_drives()[0].clone();
        assert!(podm.remove_pooled_drive(&first.endpoint_odata_id));
        assert_eq!(podm.add_pooled_drive().number, 4);
        let numbers: Vec<u32> = podm.pooled_drives().iter().map(|d| d.number).collect();
        assert_eq!(numbers, [2, 4]);
        let fabric = fabric_path(&client).await;
        let endpoints = client.get_json(&format!("{fabric}/Endpoints")).await;
        assert_eq!(endpoints["Members@odata.count"], 2);
    }
}

#[tokio::test]
async fn rsd1_spellings_rename_the_inline_allowable_values() {
    let (_podm, client) = sim(SimConfig {
        version: RsdVersion::V2_1,
        behavior: Behavior {
            rsd1_spellings: true,
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    let body = client.get_json(&node).await;
    let attach = &body["Actions"]["#ComposedNode.AttachEndpoint"];
    assert_eq!(
        attach["Resource@DMTF.AllowableValues"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}
