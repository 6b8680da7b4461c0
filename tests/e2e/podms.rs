//! Pod managers through the API: registration (verified or stored `Offline`), usage in list and
//! show, masked credentials, cordon, the safe delete, and a PODM going down and coming back.

use serde_json::json;

use crate::harness::{
    Ctx, PATIENCE, SHORT_PODM_DEADLINES, SYSTEMS_PER_SIM, on_both_backends, wait_for,
};

on_both_backends!(
    register_shows_usage_and_masks_the_password,
    unreachable_podm_is_refused_with_verify_and_stored_offline_without,
    safe_delete_refuses_releases_and_plans,
    cordoned_podm_is_never_scheduled,
    podm_going_down_is_reported_skipped_and_comes_back,
    adopted_nodes_are_forgotten_not_released,
    state_survives_a_server_restart,
);

/// A loopback address where nothing listens.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn register_shows_usage_and_masks_the_password(ctx: &Ctx) {
    let sims = ctx.sims(3, 11);
    let valence = ctx.server(&[]);

    let first = valence.register(&sims[0], "podm-0");
    // Upstream's spelling of the collection registers too.
    let second = valence
        .post("/v1/podmanagers", &sims[1].registration("podm-1"))
        .expect(201)
        .clone();
    // The third as upstream clients spell it: the service root URL, the `redfishv1` driver,
    // and Redfish sessions instead of Basic auth.
    let mut upstream = sims[2].registration("podm-2");
    upstream["url"] = json!(format!("{}/redfish/v1/", sims[2].base_url()));
    upstream["driver"] = json!("redfishv1");
    upstream["authentication"][0]["type"] = json!("session");
    let third = valence
        .post("/v1/pod_managers", &upstream)
        .expect(201)
        .clone();
    assert_eq!(third["authentication"][0]["type"], "session", "{third}");
    for (podm, sim) in [&first, &second, &third].into_iter().zip(&sims) {
        assert_eq!(podm["status"], "Online", "{podm}");
        assert_eq!(podm["state"], "active");
        assert_eq!(podm["driver"], "rsd");
        assert_eq!(podm["url"], sim.base_url());
        let auth = &podm["authentication"][0];
        assert_eq!(auth["auth_items"]["username"], "admin");
        assert_eq!(auth["auth_items"]["password"], "********");
        assert_eq!(podm["usage"]["systems_total"], SYSTEMS_PER_SIM);
        assert!(podm["last_seen_at"].is_string(), "{podm}");
    }

    // Names and URLs are unique.
    let mut same_name = sims[0].registration("podm-0");
    same_name["url"] = json!(closed_port_url());
    let again = valence.post("/v1/pod_managers", &same_name);
    let body = again.expect_error(409, "Conflict");
    assert_eq!(body["field"], "name", "{body}");
    let again = valence.post("/v1/pod_managers", &sims[0].registration("other-name"));
    let body = again.expect_error(409, "Conflict");
    assert_eq!(body["field"], "url", "{body}");

    // Renaming onto another PODM's name is refused too; unknown fields are named.
    let rename = valence.patch(
        &format!("/v1/pod_managers/{}", second["uuid"].as_str().unwrap()),
        &json!({"name": "podm-0"}),
    );
    assert_eq!(rename.expect_error(409, "Conflict")["field"], "name");
    let unknown = valence.patch(
        &format!("/v1/pod_managers/{}", second["uuid"].as_str().unwrap()),
        &json!({"colour": "red"}),
    );
    unknown.expect_error(400, "InvalidField");
    assert!(unknown.detail().contains("colour"), "{}", unknown.text);

    // Usage in the list: every PODM empty and Online.
    let list = valence.list("/v1/pod_managers");
    assert_eq!(list.len(), 3);
    for podm in &list {
        let usage = &podm["usage"];
        assert_eq!(podm["status"], "Online");
        assert_eq!(usage["systems_total"], SYSTEMS_PER_SIM, "{podm}");
        assert_eq!(usage["systems_free"], SYSTEMS_PER_SIM, "{podm}");
        assert_eq!(usage["nodes_total"], 0);
        assert_eq!(usage["nodes_valence"], 0);
        assert_eq!(usage["ratio"], 0.0);
        assert_eq!(usage["available"], true);
    }
    // The alias lists the same; paging walks the list in uuid order.
    assert_eq!(valence.list("/v1/podmanagers").len(), 3);
    let first_page = valence.list("/v1/pod_managers?limit=2");
    assert_eq!(first_page.len(), 2);
    let marker = first_page[1]["uuid"].as_str().unwrap();
    let rest = valence.list(&format!("/v1/pod_managers?limit=2&marker={marker}"));
    assert_eq!(rest.len(), 1);
    let mut walked: Vec<&str> = first_page
        .iter()
        .chain(&rest)
        .map(|p| p["uuid"].as_str().unwrap())
        .collect();
    let listed: Vec<&str> = list.iter().map(|p| p["uuid"].as_str().unwrap()).collect();
    assert_eq!(walked, listed);
    walked.sort_unstable();
    assert_eq!(walked, listed, "listed in uuid order");
    // The session PODM was reached through a Redfish session login.
    assert!(sims[2].stats().logins >= 1, "{:?}", sims[2].stats());
    assert_eq!(sims[0].stats().logins, 0);

    // Usage follows a composed node, in show and in list.
    let uuid = first["uuid"].as_str().unwrap();
    valence.compose_ready(&json!({"name": "usage-node", "podm_id": uuid}));
    let shown = valence
        .get(&format!("/v1/pod_managers/{uuid}"))
        .expect(200)
        .clone();
    let cores_total = shown["usage"]["cores_total"].as_u64().unwrap();
    let cores_free = shown["usage"]["cores_free"].as_u64().unwrap();
    let expected_cores: u64 = sims[0]
        .expected_inventory()
        .systems
        .iter()
        .map(|s| u64::from(s.total_cores()))
        .sum();
    assert_eq!(cores_total, expected_cores, "{shown}");
    assert!(cores_free < cores_total, "{shown}");
    assert_eq!(
        shown["usage"]["systems_free"],
        SYSTEMS_PER_SIM - 1,
        "{shown}"
    );
    assert_eq!(shown["usage"]["nodes_total"], 1);
    assert_eq!(shown["usage"]["nodes_valence"], 1);
    let ratio = shown["usage"]["ratio"].as_f64().unwrap();
    assert!(
        (ratio - 1.0 / SYSTEMS_PER_SIM as f64).abs() < 1e-9,
        "{shown}"
    );
    let listed = valence.list("/v1/pod_managers");
    let listed = listed.iter().find(|p| p["uuid"] == uuid).unwrap();
    assert_eq!(listed["usage"]["nodes_valence"], 1, "{listed}");

    // Filters of the list.
    assert_eq!(valence.list("/v1/pod_managers?name=podm-1").len(), 1);
    assert_eq!(valence.list("/v1/pod_managers?status=Online").len(), 3);
    assert_eq!(valence.list("/v1/pod_managers?status=Offline").len(), 0);
    assert_eq!(valence.list("/v1/pod_managers?refresh=true").len(), 3);

    // A credentials change is accepted and masked in the answer as well.
    let changed = valence.patch(
        &format!("/v1/pod_managers/{uuid}"),
        &json!({"authentication": [{"type": "basic", "auth_items": {"username": "admin", "password": sims[0].password}}]}),
    );
    let changed = changed.expect(200);
    assert_eq!(
        changed["authentication"][0]["auth_items"]["password"],
        "********"
    );
    assert_eq!(changed["status"], "Online", "{changed}");
}

fn unreachable_podm_is_refused_with_verify_and_stored_offline_without(ctx: &Ctx) {
    let valence = ctx.server(SHORT_PODM_DEADLINES);
    let url = closed_port_url();
    let password = ctx.password();
    let body = json!({
        "name": "not-yet",
        "url": url,
        "authentication": [{"type": "basic", "auth_items": {"username": "admin", "password": password}}],
    });
    let refused = valence.post("/v1/pod_managers?verify=true", &body);
    let error = refused.expect_error(502, "PodmUnreachable");
    assert!(error["detail"].as_str().unwrap().contains(&url), "{error}");
    assert!(valence.list("/v1/pod_managers").is_empty());

    let stored = valence.post("/v1/pod_managers", &body);
    let stored = stored.expect(201).clone();
    let uuid = stored["uuid"].as_str().unwrap();
    assert_eq!(stored["status"], "Offline", "{stored}");
    assert!(stored["last_error"].is_string(), "{stored}");
    assert_eq!(stored["usage"]["available"], false, "{stored}");

    // Its systems are missing and the answer says which PODM failed.
    let systems = valence.get("/v1/systems");
    assert_eq!(systems.status, 200, "{}", systems.text);
    assert_eq!(systems.json, json!([]));
    let failed = systems.header("valence-failed-podms").unwrap_or_default();
    assert!(failed.contains(uuid), "Valence-Failed-Podms: {failed:?}");
    let refused = valence.post("/v1/nodes", &json!({"name": "early"}));
    let body = refused.expect_error(409, "NoValidPodm");
    assert_eq!(body["rejected"][0]["filter"], "health", "{body}");

    // The PODM starts at that address: the health check finds it and it becomes usable.
    let port = url.rsplit(':').next().unwrap().parse().unwrap();
    let sim = ctx.sim(7, SYSTEMS_PER_SIM, port, &password);
    let online = valence.wait_podm_status(uuid, "Online");
    assert_eq!(online["driver"], "rsd");
    wait_for("the systems of the PODM that came up", PATIENCE, || {
        (valence.list("/v1/systems").len() == SYSTEMS_PER_SIM).then_some(())
    });
    let node = valence.compose_ready(&json!({"name": "late"}));
    assert_eq!(node["podm_id"], uuid);
    assert_eq!(sim.nodes().len(), 1);
}

fn safe_delete_refuses_releases_and_plans(ctx: &Ctx) {
    let sims = ctx.sims(2, 21);
    let (valence, uuids) = ctx.server_with(&sims);
    let (with_nodes, empty) = (&uuids[0], &uuids[1]);
    let node_a = valence.compose_ready(&json!({"name": "keep-a", "podm_id": with_nodes}));
    let node_b = valence.compose_ready(&json!({"name": "keep-b", "podm_id": with_nodes}));
    assert_eq!(sims[0].nodes().len(), 2);

    // Refused while Valence-made nodes remain, naming them.
    let refused = valence.delete(&format!("/v1/pod_managers/{with_nodes}"));
    let body = refused.expect_error(409, "PodmHasNodes");
    let mut named: Vec<&str> = body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uuid"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    let mut made = vec![
        node_a["uuid"].as_str().unwrap(),
        node_b["uuid"].as_str().unwrap(),
    ];
    made.sort_unstable();
    assert_eq!(named, made, "{body}");
    assert!(
        refused.detail().contains("release=true"),
        "{}",
        refused.text
    );
    assert_eq!(sims[0].nodes().len(), 2, "a refused delete touches nothing");

    // Dry runs say what would happen and change nothing.
    let plan = valence.delete(&format!("/v1/pod_managers/{with_nodes}?dry_run=true"));
    let plan = plan.expect(200);
    assert_eq!(plan["podm_id"], with_nodes.as_str());
    assert_eq!(plan["would_delete"], false, "{plan}");
    assert_eq!(plan["nodes"].as_array().unwrap().len(), 2, "{plan}");
    let plan = valence.delete(&format!(
        "/v1/pod_managers/{with_nodes}?dry_run=true&release=true"
    ));
    assert_eq!(plan.expect(200)["would_delete"], true, "{}", plan.text);
    let plan = valence.delete(&format!("/v1/pod_managers/{empty}?dry_run=true"));
    let plan = plan.expect(200);
    assert_eq!(plan["would_delete"], true, "{plan}");
    assert_eq!(plan["nodes"], json!([]));
    assert_eq!(valence.list("/v1/pod_managers").len(), 2);
    assert_eq!(sims[0].nodes().len(), 2);
    assert_eq!(valence.list("/v1/nodes").len(), 2);

    // Release decomposes the nodes on the PODM, then deletes.
    let released = valence.delete(&format!("/v1/pod_managers/{with_nodes}?release=true"));
    assert_eq!(released.status, 204, "{}", released.text);
    assert!(sims[0].nodes().is_empty(), "{:?}", sims[0].nodes());
    assert_eq!(sims[0].free_system_ids().len(), SYSTEMS_PER_SIM);
    valence
        .get(&format!("/v1/pod_managers/{with_nodes}"))
        .expect_error(404, "NotFound");
    valence
        .get(&format!("/v1/nodes/{}", node_a["uuid"].as_str().unwrap()))
        .expect_error(404, "NotFound");
    assert!(valence.list("/v1/nodes").is_empty());

    // A PODM without nodes goes at once.
    assert_eq!(
        valence.delete(&format!("/v1/pod_managers/{empty}")).status,
        204
    );
    assert!(valence.list("/v1/pod_managers").is_empty());
    valence
        .delete(&format!("/v1/pod_managers/{empty}"))
        .expect_error(404, "NotFound");
}

fn cordoned_podm_is_never_scheduled(ctx: &Ctx) {
    let sims = ctx.sims(2, 31);
    let (valence, uuids) = ctx.server_with(&sims);
    let cordoned = valence.patch(
        &format!("/v1/pod_managers/{}", uuids[0]),
        &json!({"state": "cordoned"}),
    );
    assert_eq!(
        cordoned.expect(200)["state"],
        "cordoned",
        "{}",
        cordoned.text
    );

    let plan = valence.post("/v1/nodes?dry_run=true", &json!({"name": "where"}));
    let plan = plan.expect(200);
    assert_eq!(plan["outcome"], "ranked", "{plan}");
    let candidates: Vec<&str> = plan["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["podm_uuid"].as_str().unwrap())
        .collect();
    assert_eq!(candidates, [uuids[1].as_str()], "{plan}");
    let rejected = &plan["rejected"][0];
    assert_eq!(rejected["podm_uuid"], uuids[0].as_str(), "{plan}");
    assert_eq!(rejected["filter"], "state", "{plan}");

    // Asked for by name, the cordoned PODM is refused with the reason.
    let refused = valence.post("/v1/nodes", &json!({"name": "there", "podm_id": uuids[0]}));
    let body = refused.expect_error(409, "NoValidPodm");
    assert_eq!(body["rejected"][0]["filter"], "state", "{body}");
    assert!(sims[0].nodes().is_empty());

    for n in 0..3 {
        let node = valence.compose_ready(&json!({"name": format!("spread-{n}")}));
        assert_eq!(node["podm_id"], uuids[1].as_str(), "{node}");
    }
    assert!(sims[0].nodes().is_empty());
    assert_eq!(sims[1].nodes().len(), 3);

    // Back to active, it is a candidate again.
    let active = valence.patch(
        &format!("/v1/pod_managers/{}", uuids[0]),
        &json!({"state": "active"}),
    );
    assert_eq!(active.expect(200)["state"], "active");
    let plan = valence.post("/v1/nodes?dry_run=true", &json!({"name": "where"}));
    assert_eq!(
        plan.expect(200)["candidates"].as_array().unwrap().len(),
        2,
        "{}",
        plan.text
    );
    valence
        .patch(
            &format!("/v1/pod_managers/{}", uuids[0]),
            &json!({"state": "deleting"}),
        )
        .expect_error(400, "InvalidField");
}

fn podm_going_down_is_reported_skipped_and_comes_back(ctx: &Ctx) {
    let sims = ctx.sims(3, 41);
    let (valence, uuids) = ctx.server_with_args(&sims, SHORT_PODM_DEADLINES);
    let down = &uuids[0];
    assert_eq!(valence.list("/v1/systems").len(), 3 * SYSTEMS_PER_SIM);

    sims[0].stop();
    let offline = valence.wait_podm_status(down, "Offline");
    assert!(offline["last_error"].is_string(), "{offline}");

    // The others still answer; the one down is named.
    let list = valence.list("/v1/pod_managers");
    for podm in &list {
        let expected = if podm["uuid"] == down.as_str() {
            "Offline"
        } else {
            "Online"
        };
        assert_eq!(podm["status"], expected, "{podm}");
    }
    // Reads skip it and name it once its cached inventory expires (`?refresh=true` is not
    // used here: a forced read of a PODM that is down lengthens its probe backoff).
    let systems = wait_for(
        "the systems to drop the PODM that is down",
        PATIENCE,
        || {
            let cached = valence.get("/v1/systems");
            let failed = cached.header("valence-failed-podms").unwrap_or_default();
            failed.contains(down.as_str()).then_some(cached)
        },
    );
    let listed = systems.json.as_array().unwrap();
    assert_eq!(listed.len(), 2 * SYSTEMS_PER_SIM, "{}", systems.text);
    assert!(listed.iter().all(|s| s["podm_id"] != down.as_str()));

    // The scheduler skips it, naming the health filter.
    let plan = valence.post("/v1/nodes?dry_run=true", &json!({"name": "elsewhere"}));
    let plan = plan.expect(200);
    let rejected = plan["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{plan}");
    assert_eq!(rejected[0]["podm_uuid"], down.as_str());
    assert_eq!(rejected[0]["filter"], "health", "{plan}");
    assert_eq!(plan["candidates"].as_array().unwrap().len(), 2, "{plan}");
    for n in 0..2 {
        let node = valence.compose_ready(&json!({"name": format!("while-down-{n}")}));
        assert_ne!(node["podm_id"], down.as_str(), "{node}");
    }
    let refused = valence.post(
        "/v1/nodes",
        &json!({"name": "on-the-down-one", "podm_id": down}),
    );
    let body = refused.expect_error(409, "NoValidPodm");
    assert_eq!(body["rejected"][0]["filter"], "health", "{body}");

    // Back up: the health check brings it back Online and its systems return.
    sims[0].start();
    valence.wait_podm_status(down, "Online");
    wait_for("the systems of the PODM that came back", PATIENCE, || {
        let systems = valence.get("/v1/systems");
        (systems.json.as_array().map(Vec::len) == Some(3 * SYSTEMS_PER_SIM)
            && systems.header("valence-failed-podms").is_none())
        .then_some(())
    });
    let node = valence.compose_ready(&json!({"name": "after", "podm_id": down}));
    assert_eq!(node["podm_id"], down.as_str());
    assert_eq!(sims[0].nodes().len(), 1);
}

fn adopted_nodes_are_forgotten_not_released(ctx: &Ctx) {
    let sims = ctx.sims(1, 141);
    let (valence, uuids) = ctx.server_with_args(&sims, &["--refresh-interval", "0.3"]);
    let podm = &uuids[0];
    let outside = sims[0].compose_outside_valence("made-elsewhere");
    let index = sims[0].nodes()[0].id.clone();

    // The background refresh brings the change into the usage of the list, which never
    // reads a PODM itself; `refresh=true` reads it at once.
    wait_for(
        "the refresh to see the node made elsewhere",
        PATIENCE,
        || {
            let podms = valence.list("/v1/pod_managers");
            (podms[0]["usage"]["nodes_total"] == 1).then_some(())
        },
    );
    let usage = valence.get(&format!("/v1/pod_managers/{podm}?refresh=true"));
    let usage = &usage.expect(200)["usage"];
    assert_eq!(usage["nodes_total"], 1, "{usage}");
    assert_eq!(usage["nodes_valence"], 0, "{usage}");
    assert_eq!(usage["systems_free"], SYSTEMS_PER_SIM - 1, "{usage}");

    let adopted = valence.post(
        "/v1/nodes/manage",
        &json!({"node_index": index, "podm_id": podm}),
    );
    let adopted = adopted.expect(201).clone();
    assert_eq!(adopted["managed_by"], "user", "{adopted}");
    assert_eq!(adopted["state"], "ready");
    assert_eq!(adopted["resource_uri"], outside.as_str());
    assert_eq!(adopted["podm_id"], podm.as_str());
    let twice = valence.post(
        "/v1/nodes/manage",
        &json!({"node_index": index, "podm_id": podm}),
    );
    assert_eq!(twice.expect_error(409, "Conflict")["field"], "node_index");
    let unknown = valence.post(
        "/v1/nodes/manage",
        &json!({"node_index": "999", "podm_id": podm}),
    );
    unknown.expect_error(400, "InvalidField");
    assert!(unknown.detail().contains("node_index"), "{}", unknown.text);
    assert_eq!(valence.list("/v1/nodes?managed_by=user").len(), 1);
    assert!(valence.list("/v1/nodes?managed_by=valence").is_empty());

    // Only Valence-made nodes hold a PODM back; an adopted node is forgotten, not released.
    let plan = valence.delete(&format!("/v1/pod_managers/{podm}?dry_run=true"));
    assert_eq!(plan.expect(200)["would_delete"], true, "{}", plan.text);
    assert_eq!(
        valence.delete(&format!("/v1/pod_managers/{podm}")).status,
        204
    );
    assert!(valence.list("/v1/nodes").is_empty());
    let left = sims[0].nodes();
    assert_eq!(left.len(), 1, "the adopted node stays on its PODM");
    assert_eq!(left[0].odata_id, outside);
}

fn state_survives_a_server_restart(ctx: &Ctx) {
    let sims = ctx.sims(2, 151);
    let (first, uuids) = ctx.server_with(&sims);
    let node = first.compose_ready(&json!({"name": "durable", "podm_id": uuids[1]}));
    first
        .patch(
            &format!("/v1/pod_managers/{}", uuids[0]),
            &json!({"state": "cordoned"}),
        )
        .expect(200);
    drop(first);

    // A new process on the same database: the PODMs (with their credentials) and the node.
    let second = ctx.server(&[]);
    let podms = second.list("/v1/pod_managers");
    assert_eq!(podms.len(), 2);
    let cordoned = podms
        .iter()
        .find(|p| p["uuid"] == uuids[0].as_str())
        .unwrap();
    assert_eq!(cordoned["state"], "cordoned");
    let uuid = node["uuid"].as_str().unwrap();
    let detail = second.get(&format!("/v1/nodes/{uuid}"));
    let detail = detail.expect(200);
    assert_eq!(detail["state"], "ready");
    assert_eq!(detail["composed_node_state"], "Assembled", "{detail}");
    assert_eq!(detail["podm_error"], serde_json::Value::Null, "{detail}");
    for podm in &uuids {
        second.wait_podm_status(podm, "Online");
    }
    assert_eq!(second.list("/v1/systems").len(), 2 * SYSTEMS_PER_SIM);
    assert_eq!(second.delete(&format!("/v1/nodes/{uuid}")).status, 204);
    assert!(sims[1].nodes().is_empty());
}
