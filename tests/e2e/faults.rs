//! PODM faults seen through the API: a failed assembly leaves nothing behind, a node being
//! composed cannot be released or acted on, a failed release can be retried, and releasing the
//! nodes of a PODM that is down stops midway and resumes once it is back.

use std::time::Duration;

use serde_json::json;

use crate::harness::{
    Ctx, PATIENCE, SHORT_PODM_DEADLINES, SYSTEMS_PER_SIM, on_both_backends, wait_for,
};

on_both_backends!(
    failed_assembly_leaves_nothing_on_the_podm,
    node_being_composed_cannot_be_released_or_reset,
    failed_release_keeps_the_node_for_a_retry,
    release_of_a_podm_that_is_down_resumes_when_it_is_back,
    inventory_cache_never_goes_back,
);

fn failed_assembly_leaves_nothing_on_the_podm(ctx: &Ctx) {
    let sims = ctx.sims(1, 161);
    let (valence, uuids) = ctx.server_with(&sims);
    sims[0]
        .update_behavior(|b| b.assembly_failure_rate = 1.0)
        .unwrap();
    let accepted = valence.compose(&json!({"name": "doomed", "podm_id": uuids[0]}));
    let node = valence.settled_node(accepted["uuid"].as_str().unwrap());
    assert_eq!(node["state"], "failed", "{node}");
    assert!(
        node["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{node}"
    );
    assert_eq!(sims[0].stats().allocations, 1);
    assert!(sims[0].nodes().is_empty(), "{:?}", sims[0].nodes());
    assert_eq!(sims[0].free_system_ids().len(), SYSTEMS_PER_SIM);

    // A failed node is removed from the records without a PODM call.
    let deleted = valence.delete(&format!("/v1/nodes/{}", accepted["uuid"].as_str().unwrap()));
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(valence.list("/v1/nodes").is_empty());
}

fn node_being_composed_cannot_be_released_or_reset(ctx: &Ctx) {
    let sims = ctx.sims(1, 171);
    let (valence, uuids) = ctx.server_with(&sims);
    // Long enough for the requests below to arrive while the PODM is still assembling.
    sims[0]
        .update_behavior(|b| b.assembly_delay = Duration::from_secs(3))
        .unwrap();
    let accepted = valence.compose(&json!({"name": "slow", "podm_id": uuids[0]}));
    let uuid = accepted["uuid"].as_str().unwrap();

    let early_delete = valence.delete(&format!("/v1/nodes/{uuid}"));
    early_delete.expect_error(409, "Conflict");
    assert!(
        early_delete.detail().contains(uuid),
        "{}",
        early_delete.text
    );
    let early_reset = valence.post(
        &format!("/v1/nodes/{uuid}/action"),
        &json!({"Reset": {"Type": "On"}}),
    );
    early_reset.expect_error(409, "Conflict");
    let listed = valence.list("/v1/nodes?state=ready");
    assert!(listed.is_empty(), "{listed:?}");

    let node = valence.settled_node(uuid);
    assert_eq!(node["state"], "ready", "{node}");
    let reset = valence.post(
        &format!("/v1/nodes/{uuid}/action"),
        &json!({"Reset": {"Type": "On"}}),
    );
    assert_eq!(reset.status, 204, "{}", reset.text);
    assert_eq!(valence.delete(&format!("/v1/nodes/{uuid}")).status, 204);
    assert!(sims[0].nodes().is_empty());
}

fn failed_release_keeps_the_node_for_a_retry(ctx: &Ctx) {
    let sims = ctx.sims(1, 181);
    let (valence, uuids) = ctx.server_with(&sims);
    let node = valence.compose_ready(&json!({"name": "sticky", "podm_id": uuids[0]}));
    let uuid = node["uuid"].as_str().unwrap();
    sims[0]
        .update_behavior(|b| b.delete_failure_rate = 1.0)
        .unwrap();

    let refused = valence.delete(&format!("/v1/nodes/{uuid}"));
    assert_eq!(refused.status, 502, "{}", refused.text);
    assert_eq!(refused.json["code"], "PodmRejected", "{}", refused.text);
    assert_eq!(sims[0].nodes().len(), 1);
    let kept = valence.get(&format!("/v1/nodes/{uuid}"));
    let kept = kept.expect(200);
    assert_eq!(kept["state"], "deleting", "{kept}");
    assert!(kept["last_error"].is_string(), "{kept}");

    sims[0]
        .update_behavior(|b| b.delete_failure_rate = 0.0)
        .unwrap();
    let retried = valence.delete(&format!("/v1/nodes/{uuid}"));
    assert_eq!(retried.status, 204, "{}", retried.text);
    assert!(sims[0].nodes().is_empty());
    assert!(valence.list("/v1/nodes").is_empty());
}

fn release_of_a_podm_that_is_down_resumes_when_it_is_back(ctx: &Ctx) {
    let sims = ctx.sims(2, 191);
    let (valence, uuids) = ctx.server_with_args(&sims, SHORT_PODM_DEADLINES);
    let (going, staying) = (&uuids[0], &uuids[1]);
    let node = valence.compose_ready(&json!({"name": "stranded", "podm_id": going}));
    let uuid = node["uuid"].as_str().unwrap();
    sims[0].stop();

    // The node's detail still answers, naming the PODM failure instead of live fields.
    let detail = valence.get(&format!("/v1/nodes/{uuid}"));
    let detail = detail.expect(200);
    assert_eq!(detail["state"], "ready");
    assert!(detail["podm_error"].is_string(), "{detail}");
    assert_eq!(detail["power_state"], serde_json::Value::Null, "{detail}");

    // Releasing stops at the unreachable PODM; the PODM stays, marked deleting.
    let stopped = valence.delete(&format!("/v1/pod_managers/{going}?release=true"));
    assert!(
        stopped.status == 502 || stopped.status == 504,
        "{}",
        stopped.text
    );
    let podm = valence.get(&format!("/v1/pod_managers/{going}"));
    assert_eq!(podm.expect(200)["state"], "deleting", "{}", podm.text);
    assert_eq!(valence.list(&format!("/v1/nodes?podm_id={going}")).len(), 1);
    // Being deleted, it is neither schedulable nor changeable.
    let plan = valence.post("/v1/nodes?dry_run=true", &json!({"name": "x"}));
    let plan = plan.expect(200);
    let rejected = plan["rejected"].as_array().unwrap();
    assert!(
        rejected
            .iter()
            .any(|r| r["podm_uuid"] == going.as_str() && r["filter"] == "state"),
        "{plan}"
    );
    assert_eq!(plan["candidates"][0]["podm_uuid"], staying.as_str());
    valence
        .patch(
            &format!("/v1/pod_managers/{going}"),
            &json!({"state": "active"}),
        )
        .expect_error(409, "Conflict");

    // Back up, the same call finishes the job, unless the recovery round (which takes over a
    // deletion left midway) finished it first.
    sims[0].start();
    let done = valence.delete(&format!("/v1/pod_managers/{going}?release=true"));
    assert!(done.status == 204 || done.status == 404, "{}", done.text);
    assert!(sims[0].nodes().is_empty());
    assert!(valence.list("/v1/nodes").is_empty());
    let left = valence.list("/v1/pod_managers");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["uuid"], staying.as_str());
}

/// A ready node is never forgotten by the usage figures: a background refresh that read the
/// PODM's nodes before the allocation and finishes afterwards must not put its older inventory
/// back (the aggregator keeps a read only if no change happened since it began), else until the
/// next refresh the usage, `GET /v1/systems?free=true` and the scheduler would see the node's
/// system free.
///
/// The refresh is held midway by the simulator (its system reads hang) while the node is
/// composed, then let go; only the PODM list, which never reads a PODM itself, is watched.
fn inventory_cache_never_goes_back(ctx: &Ctx) {
    let sims = ctx.sims(1, 201);
    let (valence, uuids) = ctx.server_with_args(&sims, &["--refresh-interval", "2"]);
    let podm = &uuids[0];
    sims[0].reset_counters();
    sims[0]
        .update_behavior(|b| {
            b.hang_rate = 1.0;
            b.fault_path_prefix = Some("/redfish/v1/Systems/".to_owned());
        })
        .unwrap();
    // A refresh has read the nodes and now waits for a system.
    wait_for(
        "a background refresh to reach the systems",
        PATIENCE,
        || (sims[0].request_count("GET", "/redfish/v1/Systems/{id}") > 0).then_some(()),
    );

    let accepted = valence.compose(&json!({"name": "during-refresh", "podm_id": podm}));
    wait_for("the node to be ready", PATIENCE, || {
        let ready = valence.list("/v1/nodes?state=ready");
        (ready.len() == 1).then_some(())
    });
    assert_eq!(sims[0].nodes().len(), 1, "{accepted}");

    sims[0]
        .update_behavior(|b| {
            b.hang_rate = 0.0;
            b.fault_path_prefix = None;
        })
        .unwrap();
    let usage = wait_for("an inventory in the cache again", PATIENCE, || {
        let podms = valence.list("/v1/pod_managers");
        let usage = podms[0]["usage"].clone();
        (usage["available"] == true).then_some(usage)
    });
    assert_eq!(
        usage["nodes_total"], 1,
        "the ready node is missing: {usage}"
    );
    assert_eq!(usage["systems_free"], SYSTEMS_PER_SIM - 1, "{usage}");
}
