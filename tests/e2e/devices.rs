//! Pooled devices through the API: a sync records each PODM's fabric targets, the list filters
//! and the detail show them, attach and detach reach the PODM (checked on the simulators), a
//! later sync follows the pool as it changes, and every refusal names its reason.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use valence_podm_sim::{Credentials, RsdVersion, SimConfig};

use crate::harness::{Backend, Ctx, SHORT_PODM_DEADLINES, Valence, on_both_backends, run};

on_both_backends!(
    sync_records_every_podms_pool,
    list_filters_and_show,
    attach_and_detach_reach_the_podm,
    sync_follows_the_pool_and_reports_a_podm_it_cannot_read,
    refusals_name_their_reason,
    attach_and_detach_on_an_rsd_2_1_podm,
    decompose_releases_the_nodes_devices,
    a_detach_outside_valence_is_seen_by_the_next_sync,
);

/// One sync of every PODM at once: the PODMs are read concurrently and each one's rows are
/// written in a transaction of its own.
mod all_podms_at_once {
    #[test]
    fn sqlite() {
        super::run(super::Backend::Sqlite, super::one_sync_covers_every_podm);
    }

    #[test]
    fn postgres() {
        super::run(super::Backend::Postgres, super::one_sync_covers_every_podm);
    }
}

/// `POST /v1/devices/sync` (of one PODM when given); asserts 200; the reports by PODM.
fn sync(valence: &Valence, podm: Option<&str>) -> Vec<Value> {
    let path = match podm {
        Some(uuid) => format!("/v1/devices/sync?podm_id={uuid}"),
        None => "/v1/devices/sync".to_owned(),
    };
    let reply = valence.post(&path, &json!({}));
    reply
        .expect(200)
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", reply.text))
        .clone()
}

/// Syncs each PODM of `uuids` on its own (one after the other); their reports in that order.
fn sync_each(valence: &Valence, uuids: &[String]) -> Vec<Value> {
    uuids
        .iter()
        .map(|uuid| {
            let mut reports = sync(valence, Some(uuid));
            assert_eq!(reports.len(), 1, "{reports:?}");
            reports.remove(0)
        })
        .collect()
}

/// `(added, updated, removed)` of a sync report that has no error.
#[track_caller]
fn counts(report: &Value) -> (u64, u64, u64) {
    assert!(report["error"].is_null(), "{report}");
    let n = |k: &str| report[k].as_u64().unwrap();
    (n("added"), n("updated"), n("removed"))
}

fn attach(valence: &Valence, node: &str, device: &str) -> crate::harness::Reply {
    valence.post(
        &format!("/v1/nodes/{node}/action"),
        &json!({"Attach": {"device_id": device}}),
    )
}

fn detach(valence: &Valence, node: &str, device: &str) -> crate::harness::Reply {
    valence.post(
        &format!("/v1/nodes/{node}/action"),
        &json!({"Detach": {"device_id": device}}),
    )
}

fn device(valence: &Valence, uuid: &str) -> Value {
    let reply = valence.get(&format!("/v1/devices/{uuid}"));
    reply.expect(200).clone()
}

fn uris(devices: &[Value]) -> BTreeSet<String> {
    devices
        .iter()
        .map(|d| d["resource_uri"].as_str().unwrap().to_owned())
        .collect()
}

fn sync_records_every_podms_pool(ctx: &Ctx) {
    let sims = ctx.sims(2, 301);
    let (valence, uuids) = ctx.server_with(&sims);
    assert!(valence.list("/v1/devices").is_empty());

    let reports = sync_each(&valence, &uuids);
    for (report, uuid) in reports.iter().zip(&uuids) {
        assert_eq!(report["podm_id"], uuid.as_str());
        assert_eq!(counts(report), (4, 0, 0), "{report}");
    }

    let devices = valence.list("/v1/devices");
    assert_eq!(devices.len(), 8);
    for (sim, uuid) in sims.iter().zip(&uuids) {
        let mine: Vec<Value> = devices
            .iter()
            .filter(|d| d["podm_id"] == uuid.as_str())
            .cloned()
            .collect();
        let pool = sim.pooled_drives();
        let expected: BTreeSet<String> = pool.iter().map(|d| d.resource_odata_id.clone()).collect();
        assert_eq!(uris(&mine), expected);
        for d in &mine {
            let drive = pool
                .iter()
                .find(|p| p.resource_odata_id == d["resource_uri"])
                .unwrap();
            assert_eq!(d["type"], "Volume", "{d}");
            assert_eq!(d["state"], "Enabled", "{d}");
            assert!(d["node_id"].is_null(), "{d}");
            assert_eq!(d["properties"]["name"], drive.name.as_str(), "{d}");
            assert_eq!(
                d["properties"]["endpoint_uri"],
                drive.endpoint_odata_id.as_str()
            );
            assert_eq!(d["properties"]["protocol"], "NVMeOverFabrics");
        }
    }

    // Nothing changed on the PODMs: a second sync changes nothing.
    for report in sync_each(&valence, &uuids) {
        assert_eq!(counts(&report), (0, 0, 0), "{report}");
    }
    let unknown = valence.post(
        &format!("/v1/devices/sync?podm_id={}", uuid::Uuid::new_v4()),
        &json!({}),
    );
    unknown.expect_error(404, "NotFound");
    let malformed = valence.post("/v1/devices/sync?podm_id=podm-0", &json!({}));
    malformed.expect_error(400, "InvalidQuery");
    assert!(malformed.detail().contains("podm_id"), "{}", malformed.text);
}

fn list_filters_and_show(ctx: &Ctx) {
    let sims = ctx.sims(2, 311);
    let (valence, uuids) = ctx.server_with(&sims);
    sync_each(&valence, &uuids);
    let all = valence.list("/v1/devices");
    assert_eq!(all.len(), 8);

    for uuid in &uuids {
        let own = valence.list(&format!("/v1/devices?podm_id={uuid}"));
        assert_eq!(own.len(), 4);
        assert!(own.iter().all(|d| d["podm_id"] == uuid.as_str()));
    }
    assert_eq!(valence.list("/v1/devices?type=Volume").len(), 8);
    assert!(valence.list("/v1/devices?type=Drive").is_empty());
    assert_eq!(valence.list("/v1/devices?state=Enabled").len(), 8);
    assert!(valence.list("/v1/devices?state=Absent").is_empty());
    let nobody = uuid::Uuid::new_v4();
    assert!(
        valence
            .list(&format!("/v1/devices?node_id={nobody}"))
            .is_empty()
    );
    let combined = valence.list(&format!("/v1/devices?podm_id={}&type=Volume", uuids[0]));
    assert_eq!(combined.len(), 4);

    // Paged as every list: the marker is the last item's uuid.
    let first = valence.list("/v1/devices?limit=3");
    assert_eq!(first.len(), 3);
    let marker = first[2]["uuid"].as_str().unwrap();
    let rest = valence.list(&format!("/v1/devices?marker={marker}"));
    assert_eq!(rest.len(), 5);
    let seen: BTreeSet<&str> = first
        .iter()
        .chain(&rest)
        .map(|d| d["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(seen.len(), 8);

    for d in &all {
        assert_eq!(&device(&valence, d["uuid"].as_str().unwrap()), d);
    }
    valence
        .get(&format!("/v1/devices/{}", uuid::Uuid::new_v4()))
        .expect_error(404, "NotFound");
    let malformed = valence.get("/v1/devices/not-a-uuid");
    malformed.expect_error(404, "NotFound");
    assert!(
        malformed.detail().contains("not-a-uuid"),
        "{}",
        malformed.text
    );
    let bad = valence.get("/v1/devices?podm_id=nope");
    bad.expect_error(400, "InvalidQuery");
    assert!(bad.detail().contains("podm_id"), "{}", bad.text);
    valence
        .get("/v1/devices?colour=blue")
        .expect_error(400, "InvalidQuery");
}

fn attach_and_detach_reach_the_podm(ctx: &Ctx) {
    let sims = ctx.sims(1, 321);
    let sim = &sims[0];
    let (valence, uuids) = ctx.server_with(&sims);
    sync(&valence, None);
    let node = valence.compose_ready(&json!({"name": "with-volume", "podm_id": uuids[0]}));
    let node_id = node["uuid"].as_str().unwrap();
    let node_uri = node["resource_uri"].as_str().unwrap();
    let devices = valence.list("/v1/devices");
    let chosen = &devices[1];
    let chosen_id = chosen["uuid"].as_str().unwrap();
    let chosen_uri = chosen["resource_uri"].as_str().unwrap();

    attach(&valence, node_id, chosen_id).expect(204);
    assert_eq!(device(&valence, chosen_id)["node_id"], node_id);
    assert_eq!(sim.attached_devices(node_uri), [chosen_uri.to_owned()]);
    let on_node = valence.list(&format!("/v1/devices?node_id={node_id}"));
    assert_eq!(on_node.len(), 1);
    assert_eq!(on_node[0]["uuid"], chosen_id);
    // The PODM's node shows the volume as a remote drive.
    let on_podm = sim.get_redfish(node_uri);
    let remote: Vec<&str> = on_podm["Links"]["RemoteDrives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["@odata.id"].as_str().unwrap())
        .collect();
    assert_eq!(remote, [chosen_uri]);
    // A second device on the same node.
    let second_id = devices[3]["uuid"].as_str().unwrap();
    attach(&valence, node_id, second_id).expect(204);
    assert_eq!(sim.attached_devices(node_uri).len(), 2);
    assert_eq!(
        valence
            .list(&format!("/v1/devices?node_id={node_id}"))
            .len(),
        2
    );

    detach(&valence, node_id, chosen_id).expect(204);
    assert!(device(&valence, chosen_id)["node_id"].is_null());
    assert_eq!(
        sim.attached_devices(node_uri),
        [devices[3]["resource_uri"].as_str().unwrap().to_owned()]
    );
    detach(&valence, node_id, second_id).expect(204);
    assert!(sim.attached_devices(node_uri).is_empty());
    assert!(
        valence
            .list(&format!("/v1/devices?node_id={node_id}"))
            .is_empty()
    );
    let stats = sim.stats();
    assert_eq!((stats.attachments, stats.detachments), (2, 2));

    // A sync keeps what it cannot see on the PODM's endpoints (the attachment) as it was.
    attach(&valence, node_id, chosen_id).expect(204);
    let reports = sync(&valence, None);
    assert_eq!(counts(&reports[0]), (0, 0, 0));
    assert_eq!(device(&valence, chosen_id)["node_id"], node_id);
}

fn sync_follows_the_pool_and_reports_a_podm_it_cannot_read(ctx: &Ctx) {
    let sims = ctx.sims(2, 331);
    let (valence, uuids) = ctx.server_with_args(&sims, SHORT_PODM_DEADLINES);
    sync_each(&valence, &uuids);
    let sim = &sims[0];
    let before = valence.list(&format!("/v1/devices?podm_id={}", uuids[0]));
    assert_eq!(before.len(), 4);

    // One drive pulled out, one plugged in, one attached then pulled out too.
    let node = valence.compose_ready(&json!({"name": "n", "podm_id": uuids[0]}));
    let node_id = node["uuid"].as_str().unwrap();
    let gone = &before[0];
    let attached_then_gone = &before[2];
    attach(
        &valence,
        node_id,
        attached_then_gone["uuid"].as_str().unwrap(),
    )
    .expect(204);
    assert!(sim.remove_pooled_drive(gone["resource_uri"].as_str().unwrap()));
    assert!(sim.remove_pooled_drive(attached_then_gone["resource_uri"].as_str().unwrap()));
    assert!(
        sim.attached_devices(node["resource_uri"].as_str().unwrap())
            .is_empty()
    );
    let added = sim.add_pooled_drive();

    let reports = sync(&valence, Some(&uuids[0]));
    assert_eq!(counts(&reports[0]), (1, 0, 2), "{reports:?}");
    let after = valence.list(&format!("/v1/devices?podm_id={}", uuids[0]));
    let expected: BTreeSet<String> = sim
        .pooled_drives()
        .iter()
        .map(|d| d.resource_odata_id.clone())
        .collect();
    assert_eq!(uris(&after), expected);
    assert!(expected.contains(&added.resource_odata_id));
    for removed in [gone, attached_then_gone] {
        valence
            .get(&format!(
                "/v1/devices/{}",
                removed["uuid"].as_str().unwrap()
            ))
            .expect_error(404, "NotFound");
    }
    assert!(
        valence
            .list(&format!("/v1/devices?node_id={node_id}"))
            .is_empty()
    );
    // The devices that stayed kept their ids.
    let kept: BTreeSet<&str> = after.iter().map(|d| d["uuid"].as_str().unwrap()).collect();
    for d in [&before[1], &before[3]] {
        assert!(kept.contains(d["uuid"].as_str().unwrap()), "{d}");
    }

    // A PODM that does not answer is reported; the other is synced (alone, so no two
    // transactions race); the rows of the one not answering stay.
    sims[1].stop();
    sim.add_pooled_drive();
    let reports = sync(&valence, None);
    assert_eq!(reports.len(), 2);
    let report = |uuid: &str| {
        reports
            .iter()
            .find(|r| r["podm_id"] == uuid)
            .unwrap()
            .clone()
    };
    assert_eq!(counts(&report(&uuids[0])), (1, 0, 0));
    let down = report(&uuids[1]);
    assert!(
        down["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{down}"
    );
    assert_eq!(
        valence
            .list(&format!("/v1/devices?podm_id={}", uuids[1]))
            .len(),
        4
    );
    sims[1].start();
}

fn refusals_name_their_reason(ctx: &Ctx) {
    let sims = ctx.sims(2, 341);
    let (valence, uuids) = ctx.server_with(&sims);
    sync_each(&valence, &uuids);
    let a = valence.compose_ready(&json!({"name": "a", "podm_id": uuids[0]}));
    let b = valence.compose_ready(&json!({"name": "b", "podm_id": uuids[0]}));
    let (a_id, b_id) = (a["uuid"].as_str().unwrap(), b["uuid"].as_str().unwrap());
    let ours = valence.list(&format!("/v1/devices?podm_id={}", uuids[0]));
    let theirs = valence.list(&format!("/v1/devices?podm_id={}", uuids[1]));
    let (d0, d1) = (
        ours[0]["uuid"].as_str().unwrap(),
        ours[1]["uuid"].as_str().unwrap(),
    );

    // A device of another PODM is the request's fault, named.
    let other = attach(&valence, a_id, theirs[0]["uuid"].as_str().unwrap());
    other.expect_error(400, "InvalidField");
    assert!(
        other.detail().contains("Attach.device_id"),
        "{}",
        other.text
    );

    // Unknown and malformed ids, for both actions.
    let unknown = uuid::Uuid::new_v4().to_string();
    for (reply, field) in [
        (attach(&valence, a_id, &unknown), "Attach.device_id"),
        (detach(&valence, a_id, &unknown), "Detach.device_id"),
        (attach(&valence, a_id, "volume-1"), "Attach.device_id"),
    ] {
        reply.expect_error(400, "InvalidField");
        assert!(reply.detail().contains(field), "{}", reply.text);
    }

    // Attached elsewhere: a conflict naming the node that has it; the PODM is not asked.
    attach(&valence, a_id, d0).expect(204);
    let posts = sims[0].stats().attachments;
    let taken = attach(&valence, b_id, d0);
    taken.expect_error(409, "Conflict");
    assert!(taken.detail().contains(a_id), "{}", taken.text);
    assert_eq!(sims[0].stats().attachments, posts);
    assert_eq!(device(&valence, d0)["node_id"], a_id);

    // Detaching what is not attached (to anyone, or to this node) is a conflict too.
    let loose = detach(&valence, a_id, d1);
    loose.expect_error(409, "Conflict");
    assert!(loose.detail().contains(d1), "{}", loose.text);
    let elsewhere = detach(&valence, b_id, d0);
    elsewhere.expect_error(409, "Conflict");
    assert_eq!(sims[0].stats().detachments, 0);
    assert_eq!(
        sims[0].attached_devices(a["resource_uri"].as_str().unwrap()),
        [ours[0]["resource_uri"].as_str().unwrap().to_owned()]
    );

    // Attaching it again to the node that has it is a retry: done, and the PODM is not asked.
    let twice = attach(&valence, a_id, d0);
    assert_eq!(twice.status, 204, "{}", twice.text);
    assert_eq!(sims[0].stats().attachments, posts);

    // Malformed actions and unknown nodes.
    valence
        .post(
            &format!("/v1/nodes/{a_id}/action"),
            &json!({"Attach": {"device": d1}}),
        )
        .expect_error(400, "InvalidField");
    valence
        .post(
            &format!("/v1/nodes/{}/action", uuid::Uuid::new_v4()),
            &json!({"Attach": {"device_id": d1}}),
        )
        .expect_error(404, "NotFound");

    // A node that is not ready yet cannot take a device.
    sims[0]
        .update_behavior(|b| b.allocation_delay = std::time::Duration::from_secs(3600))
        .unwrap();
    let pending = valence.compose(&json!({"name": "pending", "podm_id": uuids[0]}));
    let pending_id = pending["uuid"].as_str().unwrap();
    attach(&valence, pending_id, d1).expect_error(409, "Conflict");
    assert!(device(&valence, d1)["node_id"].is_null());
}

fn attach_and_detach_on_an_rsd_2_1_podm(ctx: &Ctx) {
    // The harness's simulators speak RSD 2.3; this one runs on a runtime of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let password = ctx.password();
    let sim = runtime
        .block_on(valence_podm_sim::start(SimConfig {
            version: RsdVersion::V2_1,
            systems: 4,
            seed: 351,
            pooled_drives: 3,
            credentials: Some(Credentials::new("admin", &password)),
            ..SimConfig::default()
        }))
        .unwrap();
    let valence = ctx.server(&[]);
    let podm = valence.post(
        "/v1/pod_managers",
        &json!({
            "name": "rsd-2-1",
            "url": sim.base_url(),
            "authentication": [{"type": "basic", "auth_items": {"username": "admin", "password": password}}],
        }),
    );
    let podm_id = podm.expect(201)["uuid"].as_str().unwrap().to_owned();
    let reports = sync(&valence, None);
    assert_eq!(counts(&reports[0]), (3, 0, 0));
    let devices = valence.list("/v1/devices");
    assert!(devices.iter().all(|d| d["type"] == "Drive"), "{devices:?}");
    let expected: BTreeSet<String> = sim
        .pooled_drives()
        .iter()
        .map(|d| d.resource_odata_id.clone())
        .collect();
    assert_eq!(uris(&devices), expected);

    let node = valence.compose_ready(&json!({"name": "pcie", "podm_id": podm_id}));
    let node_id = node["uuid"].as_str().unwrap();
    let node_uri = node["resource_uri"].as_str().unwrap();
    let d = devices[0]["uuid"].as_str().unwrap();
    let uri = devices[0]["resource_uri"].as_str().unwrap();
    attach(&valence, node_id, d).expect(204);
    assert_eq!(sim.attached_devices(node_uri), [uri.to_owned()]);
    assert_eq!(device(&valence, d)["node_id"], node_id);
    assert_eq!(
        sim.request_count(
            "POST",
            "/redfish/v1/Nodes/{id}/Actions/ComposedNode.AttachEndpoint"
        ),
        1
    );
    detach(&valence, node_id, d).expect(204);
    assert!(sim.attached_devices(node_uri).is_empty());
    assert!(device(&valence, d)["node_id"].is_null());
    drop(valence);
    drop(sim);
}

fn decompose_releases_the_nodes_devices(ctx: &Ctx) {
    let sims = ctx.sims(1, 361);
    let (valence, uuids) = ctx.server_with(&sims);
    sync(&valence, None);
    let node = valence.compose_ready(&json!({"name": "short-lived", "podm_id": uuids[0]}));
    let node_id = node["uuid"].as_str().unwrap();
    let devices = valence.list("/v1/devices");
    let d = devices[0]["uuid"].as_str().unwrap();
    attach(&valence, node_id, d).expect(204);

    valence.delete(&format!("/v1/nodes/{node_id}")).expect(204);
    // The PODM detached it with the node; Valence must not keep it on a node that is gone.
    assert!(
        sims[0]
            .pooled_drives()
            .iter()
            .all(|p| p.attached_to.is_none())
    );
    assert!(
        device(&valence, d)["node_id"].is_null(),
        "{}",
        device(&valence, d)
    );
    let next = valence.compose_ready(&json!({"name": "next", "podm_id": uuids[0]}));
    attach(&valence, next["uuid"].as_str().unwrap(), d).expect(204);
}

fn one_sync_covers_every_podm(ctx: &Ctx) {
    let sims = ctx.sims(3, 371);
    let (valence, uuids) = ctx.server_with(&sims);
    let reports = sync(&valence, None);
    assert_eq!(reports.len(), 3, "{reports:?}");
    let mut expected = uuids.clone();
    expected.sort();
    for (report, uuid) in reports.iter().zip(&expected) {
        assert_eq!(report["podm_id"], uuid.as_str());
        assert_eq!(counts(report), (4, 0, 0), "{report}");
    }
    assert_eq!(valence.list("/v1/devices").len(), 12);
    for sim in &sims {
        sim.add_pooled_drive();
    }
    for report in sync(&valence, None) {
        assert_eq!(counts(&report), (1, 0, 0), "{report}");
    }
    assert_eq!(valence.list("/v1/devices").len(), 15);
}

fn a_detach_outside_valence_is_seen_by_the_next_sync(ctx: &Ctx) {
    let sims = ctx.sims(1, 381);
    let (valence, uuids) = ctx.server_with(&sims);
    sync(&valence, None);
    let node = valence.compose_ready(&json!({"name": "n", "podm_id": uuids[0]}));
    let node_id = node["uuid"].as_str().unwrap();
    let node_uri = node["resource_uri"].as_str().unwrap();
    let devices = valence.list("/v1/devices");
    let d = devices[0]["uuid"].as_str().unwrap();
    let uri = devices[0]["resource_uri"].as_str().unwrap();
    attach(&valence, node_id, d).expect(204);

    // Another client of the PODM detaches it.
    let (status, _) = sims[0].post_redfish(
        &format!("{node_uri}/Actions/ComposedNode.DetachResource"),
        &json!({"Resource": {"@odata.id": uri}}),
    );
    assert_eq!(status, 204);
    assert!(sims[0].attached_devices(node_uri).is_empty());

    sync(&valence, None);
    assert!(
        device(&valence, d)["node_id"].is_null(),
        "{}",
        device(&valence, d)
    );
    let other = valence.compose_ready(&json!({"name": "other", "podm_id": uuids[0]}));
    attach(&valence, other["uuid"].as_str().unwrap(), d).expect(204);
}
