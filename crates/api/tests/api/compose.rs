//! Compose: placement, the next candidate on a PODM's 409, idempotency, flavors.

use axum::http::{Method, StatusCode};
use serde_json::json;
use valence_http_client::{Auth, ClientConfig, PodmClient, SecretString, Url};

use crate::harness::{PASSWORD, TestApp, USER, sim};

/// Takes every free system of `sim` behind Valence's back, as another client would.
async fn exhaust(sim: &valence_podm_sim::SimPodm) {
    let config = ClientConfig::new(
        Url::parse(&sim.base_url()).unwrap(),
        Auth::Basic {
            username: USER.into(),
            password: SecretString::from(PASSWORD),
        },
    );
    let client = PodmClient::new(config).unwrap();
    while !sim.free_system_ids().is_empty() {
        let taken = client
            .post_json(
                "/redfish/v1/Nodes/Actions/Allocate",
                &json!({"Name": "other"}),
            )
            .await;
        assert!(taken.is_ok(), "{taken:?}");
    }
}

#[tokio::test]
async fn a_refused_allocation_moves_to_the_next_candidate() {
    let app = TestApp::new();
    let first = sim("first", 2, 7).await;
    let second = sim("second", 2, 7).await;
    let a = app.register("a-first", &first).await;
    let b = app.register("b-second", &second).await;

    // Equal inventories: the tie goes to the name "a-first". Its systems are taken meanwhile,
    // and Valence's cached inventory does not know it.
    let plan = app
        .call(
            Method::POST,
            "/v1/nodes?dry_run=true",
            Some(json!({"name": "n"})),
        )
        .await;
    assert_eq!(
        plan.body["candidates"][0]["podm_uuid"],
        a.as_str(),
        "{}",
        plan.text
    );
    exhaust(&first).await;

    let reply = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "n"})))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let node = app.settled_node(reply.body["uuid"].as_str().unwrap()).await;
    assert_eq!(node["state"], "ready", "{node}");
    assert_eq!(node["podm_id"], b.as_str());
    assert_eq!(second.nodes().len(), 1);
}

#[tokio::test]
async fn when_every_candidate_refuses_the_node_fails_naming_them() {
    let app = TestApp::new();
    let only = sim("only", 1, 3).await;
    app.register("only", &only).await;
    exhaust(&only).await;
    let reply = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "n"})))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let node = app.settled_node(reply.body["uuid"].as_str().unwrap()).await;
    assert_eq!(node["state"], "failed");
    let error = node["last_error"].as_str().unwrap();
    assert!(error.contains("only"), "{error}");
}

#[tokio::test]
async fn a_retried_request_with_the_same_idempotency_key_composes_once() {
    let app = TestApp::new();
    let pod = sim("pod", 4, 5).await;
    app.register("pod", &pod).await;
    let headers = [("Idempotency-Key", "order-42")];
    let first = app
        .call_with(
            Method::POST,
            "/v1/nodes",
            Some(json!({"name": "n"})),
            &headers,
        )
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    let again = app
        .call_with(
            Method::POST,
            "/v1/nodes",
            Some(json!({"name": "n"})),
            &headers,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["uuid"], first.body["uuid"]);
    app.settled_node(first.body["uuid"].as_str().unwrap()).await;
    assert_eq!(pod.nodes().len(), 1);
    let listed = app.call(Method::GET, "/v1/nodes", None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn flavors_feed_compose_and_bad_requests_name_the_field() {
    let app = TestApp::new();
    let pod = sim("pod", 4, 5).await;
    let podm = app.register("pod", &pod).await;
    let flavor = app
        .call(
            Method::POST,
            "/v1/flavors",
            Some(json!({"name": "small", "properties": {"processor": {"total_cores": "2"}}})),
        )
        .await;
    assert_eq!(flavor.status, StatusCode::CREATED, "{}", flavor.text);
    assert_eq!(flavor.body["properties"]["processor"]["total_cores"], 2);

    let by_name = app
        .call(
            Method::POST,
            "/v1/nodes",
            Some(json!({"name": "n", "flavor_id": "small", "podm_id": podm})),
        )
        .await;
    assert_eq!(by_name.status, StatusCode::ACCEPTED, "{}", by_name.text);
    assert_eq!(by_name.body["flavor_id"], flavor.body["uuid"]);

    for (body, field) in [
        (
            json!({"name": "n", "flavor_id": "small", "properties": {}}),
            "flavor_id",
        ),
        (json!({"name": "n", "flavor_id": "huge"}), "flavor_id"),
        (json!({"name": "", "properties": {}}), "name"),
        (json!({"name": "n", "podm_id": "nope"}), "podm_id"),
        (
            json!({"name": "n", "podm_id": uuid::Uuid::new_v4().to_string()}),
            "podm_id",
        ),
        (
            json!({"name": "n", "properties": {"memory": {"capacity_mib": "lots"}}}),
            "properties.memory.capacity_mib",
        ),
        (
            json!({"name": "n", "properties": {"processor": {"total_cores": 0}}}),
            "properties.processor.total_cores",
        ),
        (json!({"name": "n", "colour": "blue"}), "colour"),
    ] {
        let reply = app
            .call(Method::POST, "/v1/nodes", Some(body.clone()))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert!(
            reply.body["detail"].as_str().unwrap().contains(field),
            "{body}: {}",
            reply.text
        );
    }

    let nothing_fits = app
        .call(
            Method::POST,
            "/v1/nodes",
            Some(json!({"name": "n", "properties": {"processor": {"total_cores": 100000}}})),
        )
        .await;
    assert_eq!(
        nothing_fits.status,
        StatusCode::CONFLICT,
        "{}",
        nothing_fits.text
    );
    assert_eq!(nothing_fits.body["code"], "NoValidPodm");
    assert_eq!(nothing_fits.body["rejected"][0]["filter"], "capacity");
}

#[tokio::test]
async fn composes_waiting_for_their_podm_reserve_a_system_for_the_next_placement() {
    let app = TestApp::new();
    let first = sim("first", 1, 7).await;
    let second = sim("second", 1, 7).await;
    let a = app.register("a-first", &first).await;
    let b = app.register("b-second", &second).await;
    // The first PODM takes a while to answer Allocate: its compose is pending meanwhile.
    first
        .update_behavior(|behavior| {
            behavior.answer_delay = std::time::Duration::from_millis(800);
            behavior.fault_path_prefix = Some("/redfish/v1/Nodes/Actions".into());
        })
        .unwrap();
    let one = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "one"})))
        .await;
    assert_eq!(one.body["podm_id"], a.as_str(), "{}", one.text);

    let plan = app
        .call(
            Method::POST,
            "/v1/nodes?dry_run=true",
            Some(json!({"name": "two"})),
        )
        .await;
    assert_eq!(
        plan.body["candidates"][0]["podm_uuid"],
        b.as_str(),
        "{}",
        plan.text
    );
    assert_eq!(
        plan.body["rejected"][0]["filter"], "capacity",
        "{}",
        plan.text
    );
    let two = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "two"})))
        .await;
    assert_eq!(two.body["podm_id"], b.as_str(), "{}", two.text);

    for reply in [&one, &two] {
        let node = app.settled_node(reply.body["uuid"].as_str().unwrap()).await;
        assert_eq!(node["state"], "ready", "{node}");
    }
    assert_eq!(
        first.stats().allocation_conflicts,
        0,
        "no compose was sent to a PODM already spoken for"
    );
}
