//! Composed nodes through the API: placement with and without `podm_id` (checked on the
//! simulators), the no-fit explanation, idempotent retries, flavors, node actions and decompose.

use serde_json::{Value, json};

use crate::harness::{Ctx, SYSTEMS_PER_SIM, Sim, on_both_backends};

on_both_backends!(
    compose_on_a_named_podm_lands_there,
    request_only_one_podm_fits_lands_on_it,
    no_fit_is_explained_per_podm,
    idempotency_key_returns_the_first_node,
    reset_and_boot_actions_reach_the_node,
    decompose_frees_the_system_on_the_podm,
);

/// `(index of the PODM, cores, memory MiB)`: a request for at least these cores and memory that
/// one system of that PODM satisfies and no system of any other PODM does, found from the
/// seeded inventories.
fn request_for_one_podm(sims: &[Sim]) -> (usize, u32, u64) {
    let inventories: Vec<_> = sims.iter().map(Sim::expected_inventory).collect();
    let fits = |inv: &valence_podm_sim::Inventory, cores: u32, mib: u64| {
        inv.systems
            .iter()
            .any(|s| s.total_cores() >= cores && s.memory_mib() >= mib)
    };
    for (owner, inventory) in inventories.iter().enumerate() {
        for system in &inventory.systems {
            let (cores, mib) = (system.total_cores(), system.memory_mib());
            let fitting: Vec<usize> = (0..inventories.len())
                .filter(|&n| fits(&inventories[n], cores, mib))
                .collect();
            if fitting == [owner] {
                return (owner, cores, mib);
            }
        }
    }
    panic!("no request fits exactly one of the seeded inventories; pick other seeds");
}

fn properties(cores: u32, mib: u64) -> Value {
    json!({"processor": {"total_cores": cores}, "memory": {"capacity_mib": mib}})
}

fn compose_on_a_named_podm_lands_there(ctx: &Ctx) {
    let sims = ctx.sims(3, 71);
    let (valence, uuids) = ctx.server_with(&sims);
    for (n, uuid) in uuids.iter().enumerate().rev() {
        let accepted = valence.compose(&json!({"name": format!("named-{n}"), "podm_id": uuid}));
        assert_eq!(accepted["podm_id"], uuid.as_str(), "{accepted}");
        assert_eq!(accepted["managed_by"], "valence");
        let node = valence.settled_node(accepted["uuid"].as_str().unwrap());
        assert_eq!(node["state"], "ready", "{node}");
        assert_eq!(node["podm_id"], uuid.as_str());
        // The PODM holds exactly that node, on the system the detail names.
        let on_podm = sims[n].nodes();
        assert_eq!(on_podm.len(), 1, "{on_podm:?}");
        assert_eq!(node["resource_uri"], on_podm[0].odata_id.as_str(), "{node}");
        assert_eq!(node["index"], on_podm[0].id.as_str());
        assert_eq!(on_podm[0].state, "Assembled");
        assert_eq!(node["composed_node_state"], "Assembled", "{node}");
        assert_eq!(
            node["system"]["system_id"],
            on_podm[0].system_id.as_str(),
            "{node}"
        );
        assert_eq!(node["system"]["podm_id"], uuid.as_str());
        assert!(!sims[n].free_system_ids().contains(&on_podm[0].system_id));
    }
    let nodes = valence.list("/v1/nodes");
    assert_eq!(nodes.len(), 3);
    for uuid in &uuids {
        let own = valence.list(&format!("/v1/nodes?podm_id={uuid}"));
        assert_eq!(own.len(), 1);
        assert_eq!(own[0]["podm_id"], uuid.as_str());
    }
    assert_eq!(valence.list("/v1/nodes?state=ready").len(), 3);
    assert!(valence.list("/v1/nodes?state=failed").is_empty());

    // A PODM that does not exist is the request's fault, named.
    let unknown = valence.post(
        "/v1/nodes",
        &json!({"name": "nowhere", "podm_id": uuid::Uuid::new_v4().to_string()}),
    );
    unknown.expect_error(400, "InvalidField");
    assert!(unknown.detail().contains("podm_id"), "{}", unknown.text);
    let malformed = valence.post("/v1/nodes", &json!({"name": "x", "podm_id": "podm-1"}));
    malformed.expect_error(400, "InvalidField");
    assert!(malformed.detail().contains("podm_id"), "{}", malformed.text);
}

fn request_only_one_podm_fits_lands_on_it(ctx: &Ctx) {
    let sims = ctx.sims(3, 81);
    let (valence, uuids) = ctx.server_with(&sims);
    let (owner, cores, mib) = request_for_one_podm(&sims);
    let request = json!({"name": "big", "properties": properties(cores, mib)});

    // The dry run names the one candidate and why the others were dropped; nothing is composed.
    let plan = valence.post("/v1/nodes?dry_run=true", &request);
    let plan = plan.expect(200);
    assert_eq!(plan["outcome"], "ranked", "{plan}");
    let candidates = plan["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{plan}");
    assert_eq!(candidates[0]["podm_uuid"], uuids[owner].as_str());
    let rejected = plan["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{plan}");
    assert!(rejected.iter().all(|r| r["filter"] == "capacity"), "{plan}");
    assert!(sims.iter().all(|s| s.nodes().is_empty()));
    assert!(valence.list("/v1/nodes").is_empty());

    let node = valence.compose_ready(&request);
    assert_eq!(node["podm_id"], uuids[owner].as_str(), "{node}");
    let on_podm = sims[owner].nodes();
    assert_eq!(on_podm.len(), 1);
    let spec_inventory = sims[owner].expected_inventory();
    let system = spec_inventory.system(&on_podm[0].system_id).unwrap();
    assert!(system.total_cores() >= cores && system.memory_mib() >= mib);
    for (n, sim) in sims.iter().enumerate() {
        if n != owner {
            assert!(sim.nodes().is_empty(), "PODM {n} got a node");
        }
    }

    // The same request through a flavor.
    let flavor = valence.post(
        "/v1/flavors",
        &json!({"name": "only-one", "properties": properties(cores, mib)}),
    );
    let flavor = flavor.expect(201).clone();
    let second = valence.post(
        "/v1/nodes?dry_run=true",
        &json!({"name": "by-flavor", "flavor_id": flavor["uuid"]}),
    );
    let second = second.expect(200);
    // The only fitting system may now be taken; if so the plan says no PODM fits.
    let fitting_left = spec_inventory
        .systems
        .iter()
        .any(|s| s.total_cores() >= cores && s.memory_mib() >= mib && s.id != on_podm[0].system_id);
    if fitting_left {
        assert_eq!(second["candidates"][0]["podm_uuid"], uuids[owner].as_str());
        let node = valence.compose_ready(&json!({"name": "by-flavor", "flavor_id": "only-one"}));
        assert_eq!(node["podm_id"], uuids[owner].as_str());
        assert_eq!(node["flavor_id"], flavor["uuid"]);
    } else {
        assert_eq!(second["outcome"], "no_valid_podm", "{second}");
        let refused = valence.post(
            "/v1/nodes",
            &json!({"name": "by-flavor", "flavor_id": "only-one"}),
        );
        let body = refused.expect_error(409, "NoValidPodm");
        assert_eq!(body["rejected"].as_array().unwrap().len(), 3, "{body}");
    }
    let both = valence.post(
        "/v1/nodes",
        &json!({"name": "x", "flavor_id": "only-one", "properties": {}}),
    );
    both.expect_error(400, "InvalidField");
    let missing = valence.post("/v1/nodes", &json!({"name": "x", "flavor_id": "no-such"}));
    missing.expect_error(400, "InvalidField");
    assert!(missing.detail().contains("flavor_id"), "{}", missing.text);
}

fn no_fit_is_explained_per_podm(ctx: &Ctx) {
    let sims = ctx.sims(3, 91);
    let (valence, uuids) = ctx.server_with(&sims);
    let request = json!({"name": "huge", "properties": properties(100_000, 1)});

    let refused = valence.post("/v1/nodes", &request);
    let body = refused.expect_error(409, "NoValidPodm").clone();
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 3, "{body}");
    for uuid in &uuids {
        let r = rejected.iter().find(|r| r["podm_uuid"] == *uuid).unwrap();
        assert_eq!(r["filter"], "capacity", "{r}");
        assert!(r["reason"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
        assert!(r["podm_name"].is_string());
    }
    assert!(refused.detail().contains("100000"), "{}", refused.text);
    let plan = valence.post("/v1/nodes?dry_run=true", &request);
    let plan = plan.expect(200);
    assert_eq!(plan["outcome"], "no_valid_podm", "{plan}");
    assert_eq!(plan["rejected"].as_array().unwrap().len(), 3);

    // Asking for one PODM explains that PODM only.
    let one = valence.post(
        "/v1/nodes",
        &json!({"name": "huge", "podm_id": uuids[1], "properties": properties(100_000, 1)}),
    );
    let body = one.expect_error(409, "NoValidPodm");
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{body}");
    assert_eq!(rejected[0]["podm_uuid"], uuids[1].as_str());

    // Nothing was recorded or composed.
    assert!(valence.list("/v1/nodes").is_empty());
    assert!(sims.iter().all(|s| s.stats().allocations == 0));

    // Invalid requirements are the request's fault, named.
    let zero = valence.post(
        "/v1/nodes",
        &json!({"name": "zero", "properties": {"processor": {"total_cores": 0}}}),
    );
    zero.expect_error(400, "InvalidField");
    assert!(
        zero.detail().contains("processor.total_cores"),
        "{}",
        zero.text
    );
}

fn idempotency_key_returns_the_first_node(ctx: &Ctx) {
    let sims = ctx.sims(2, 101);
    let (valence, _) = ctx.server_with(&sims);
    let body = json!({"name": "once"});
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "retry-me-1"),
    ];
    let first = valence.request("POST", "/v1/nodes", &headers, Some(&body.to_string()));
    let node = first.expect(202).clone();
    let retry = valence.request("POST", "/v1/nodes", &headers, Some(&body.to_string()));
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert_eq!(retry.json["uuid"], node["uuid"]);
    let ready = valence.settled_node(node["uuid"].as_str().unwrap());
    assert_eq!(ready["state"], "ready");
    let late = valence.request("POST", "/v1/nodes", &headers, Some(&body.to_string()));
    assert_eq!(late.status, 200);
    assert_eq!(late.json["uuid"], node["uuid"]);
    assert_eq!(valence.list("/v1/nodes").len(), 1);
    let on_podms: usize = sims.iter().map(|s| s.nodes().len()).sum();
    assert_eq!(on_podms, 1, "a retried request composes once");
}

fn reset_and_boot_actions_reach_the_node(ctx: &Ctx) {
    let sims = ctx.sims(1, 111);
    let (valence, uuids) = ctx.server_with(&sims);
    let node = valence.compose_ready(&json!({"name": "acted-on", "podm_id": uuids[0]}));
    let uuid = node["uuid"].as_str().unwrap();
    let action = format!("/v1/nodes/{uuid}/action");
    let on_podm = || sims[0].nodes().remove(0);

    let on = valence.post(&action, &json!({"Reset": {"Type": "On"}}));
    assert_eq!(on.status, 204, "{}", on.text);
    assert_eq!(on_podm().power_state, "On");
    let off = valence.post(&action, &json!({"Reset": {"Type": "ForceOff"}}));
    assert_eq!(off.status, 204, "{}", off.text);
    assert_eq!(on_podm().power_state, "Off");
    let detail = valence.get(&format!("/v1/nodes/{uuid}"));
    assert_eq!(detail.expect(200)["power_state"], "Off", "{}", detail.text);

    // A type the node does not allow: the request's fault, naming the field; nothing happens.
    let refused = valence.post(&action, &json!({"Reset": {"Type": "Explode"}}));
    refused.expect_error(400, "InvalidField");
    assert!(refused.detail().contains("Reset.Type"), "{}", refused.text);
    assert_eq!(on_podm().power_state, "Off");

    let boot = valence.post(
        &action,
        &json!({"Boot": {"Enabled": "Once", "Target": "Pxe"}}),
    );
    assert_eq!(boot.status, 204, "{}", boot.text);
    let redfish = sims[0].get_redfish(&on_podm().odata_id);
    assert_eq!(
        redfish["Boot"]["BootSourceOverrideEnabled"], "Once",
        "{redfish}"
    );
    assert_eq!(
        redfish["Boot"]["BootSourceOverrideTarget"], "Pxe",
        "{redfish}"
    );
    let bad_boot = valence.post(
        &action,
        &json!({"Boot": {"Enabled": "Once", "Target": "Floppy"}}),
    );
    assert!(
        bad_boot.status == 400 || bad_boot.status == 422,
        "{}",
        bad_boot.text
    );
    assert!(bad_boot.detail().contains("Boot"), "{}", bad_boot.text);

    // Malformed actions and unknown nodes.
    let unknown_action = valence.post(&action, &json!({"Jump": {}}));
    unknown_action.expect_error(400, "InvalidField");
    let missing_type = valence.post(&action, &json!({"Reset": {}}));
    missing_type.expect_error(400, "InvalidField");
    assert!(
        missing_type.detail().contains("Type"),
        "{}",
        missing_type.text
    );
    valence
        .post(
            &format!("/v1/nodes/{}/action", uuid::Uuid::new_v4()),
            &json!({"Reset": {"Type": "On"}}),
        )
        .expect_error(404, "NotFound");
}

fn decompose_frees_the_system_on_the_podm(ctx: &Ctx) {
    let sims = ctx.sims(2, 121);
    let (valence, uuids) = ctx.server_with(&sims);
    let node = valence.compose_ready(&json!({"name": "short-lived", "podm_id": uuids[1]}));
    let uuid = node["uuid"].as_str().unwrap();
    let system = sims[1].nodes()[0].system_id.clone();
    assert!(!sims[1].free_system_ids().contains(&system));
    let podm = valence.get(&format!("/v1/pod_managers/{}", uuids[1]));
    assert_eq!(podm.json["usage"]["systems_free"], SYSTEMS_PER_SIM - 1);

    let deleted = valence.delete(&format!("/v1/nodes/{uuid}"));
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(sims[1].nodes().is_empty());
    assert!(sims[1].free_system_ids().contains(&system));
    assert_eq!(sims[1].free_system_ids().len(), SYSTEMS_PER_SIM);
    assert_eq!(sims[1].stats().node_deletions, 1);
    valence
        .get(&format!("/v1/nodes/{uuid}"))
        .expect_error(404, "NotFound");
    assert!(valence.list("/v1/nodes").is_empty());
    let podm = valence.get(&format!("/v1/pod_managers/{}", uuids[1]));
    let usage = &podm.json["usage"];
    assert_eq!(usage["systems_free"], SYSTEMS_PER_SIM, "{}", podm.text);
    assert_eq!(usage["nodes_valence"], 0);
    assert_eq!(
        valence.list("/v1/systems?free=true").len(),
        2 * SYSTEMS_PER_SIM
    );
    valence
        .delete(&format!("/v1/nodes/{uuid}"))
        .expect_error(404, "NotFound");
    valence
        .delete("/v1/nodes/not-a-uuid")
        .expect_error(404, "NotFound");
}
