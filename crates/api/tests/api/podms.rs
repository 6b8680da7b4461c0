//! Pod managers: registration outcomes, cordon, and credentials that never leave.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, register_body, sim};

#[tokio::test]
async fn an_unreachable_podm_is_stored_offline_unless_verify_is_asked() {
    let app = TestApp::new();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}");
    let refused = app
        .call(
            Method::POST,
            "/v1/pod_managers?verify=true",
            Some(register_body("gone", &url)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.text);
    assert_eq!(refused.body["code"], "PodmUnreachable");

    let stored = app
        .call(
            Method::POST,
            "/v1/pod_managers",
            Some(register_body("gone", &url)),
        )
        .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    assert_eq!(stored.body["status"], "Offline");
    assert!(stored.body["last_error"].as_str().unwrap().len() > 5);
    assert_eq!(stored.body["usage"]["available"], false);

    let systems = app.call(Method::GET, "/v1/systems", None).await;
    assert_eq!(systems.status, StatusCode::OK);
    let failed = systems
        .headers
        .get("valence-failed-podms")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        failed.contains(stored.body["uuid"].as_str().unwrap()),
        "{failed}"
    );
}

#[tokio::test]
async fn registration_validates_fields_and_refuses_duplicates() {
    let app = TestApp::new();
    let pod = sim("pod", 2, 1).await;
    app.register("pod", &pod).await;
    let again = app
        .call(
            Method::POST,
            "/v1/podmanagers",
            Some(register_body("pod", "http://127.0.0.1:1")),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.body["field"], "name");
    let same_url = app
        .call(
            Method::POST,
            "/v1/pod_managers",
            Some(register_body("other", &pod.base_url())),
        )
        .await;
    assert_eq!(same_url.status, StatusCode::CONFLICT, "{}", same_url.text);
    assert_eq!(same_url.body["field"], "url");

    for (body, field) in [
        (json!({"name": "x", "url": "ftp://host"}), "url"),
        (
            json!({"name": "x", "url": "http://h", "driver": "vmware"}),
            "driver",
        ),
        (
            json!({"name": "x", "url": "http://h", "authentication": [{"type": "kerberos", "auth_items": {"username": "u", "password": "p"}}]}),
            "authentication[0].type",
        ),
        (
            json!({"name": "x", "url": "http://h", "authentication": [{"type": "basic", "auth_items": {"username": "u"}}]}),
            "password",
        ),
        (
            json!({"name": "x", "url": "http://h", "ca_cert": "not a pem"}),
            "ca_cert",
        ),
        (json!({"url": "http://h"}), "name"),
    ] {
        let reply = app
            .call(Method::POST, "/v1/pod_managers", Some(body.clone()))
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
}

#[tokio::test]
async fn a_cordoned_podm_is_not_scheduled_and_can_be_uncordoned() {
    let app = TestApp::new();
    let pod = sim("pod", 2, 1).await;
    let uuid = app.register("pod", &pod).await;
    let path = format!("/v1/pod_managers/{uuid}");
    let cordoned = app
        .call(Method::PATCH, &path, Some(json!({"state": "cordoned"})))
        .await;
    assert_eq!(cordoned.body["state"], "cordoned", "{}", cordoned.text);
    let plan = app
        .call(
            Method::POST,
            "/v1/nodes?dry_run=true",
            Some(json!({"name": "n"})),
        )
        .await;
    assert_eq!(plan.body["outcome"], "no_valid_podm", "{}", plan.text);
    assert_eq!(plan.body["rejected"][0]["filter"], "state");
    let refused = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "n"})))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("cordoned"),
        "{}",
        refused.text
    );

    let bad = app
        .call(Method::PATCH, &path, Some(json!({"state": "deleting"})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let back = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"state": "active", "description": "rack 7"})),
        )
        .await;
    assert_eq!(back.body["state"], "active");
    assert_eq!(back.body["description"], "rack 7");
}

#[tokio::test]
async fn safe_delete_refuses_with_nodes_then_releases_them() {
    let app = TestApp::new();
    let pod = sim("pod", 3, 1).await;
    let uuid = app.register("pod", &pod).await;
    let composed = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "n"})))
        .await;
    let node = app
        .settled_node(composed.body["uuid"].as_str().unwrap())
        .await;
    assert_eq!(node["state"], "ready");
    let path = format!("/v1/pod_managers/{uuid}");

    let refused = app.call(Method::DELETE, &path, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "PodmHasNodes");
    assert_eq!(refused.body["nodes"][0]["uuid"], node["uuid"]);
    let shown = app.call(Method::GET, &path, None).await;
    assert_eq!(
        shown.body["state"], "active",
        "a refused delete leaves the PODM as it was"
    );

    let plan = app
        .call(
            Method::DELETE,
            &format!("{path}?dry_run=true&release=true"),
            None,
        )
        .await;
    assert_eq!(plan.body["would_delete"], true);
    assert_eq!(pod.nodes().len(), 1, "a dry run changes nothing");

    let released = app
        .call(Method::DELETE, &format!("{path}?release=true"), None)
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
    assert!(
        pod.nodes().is_empty(),
        "the node was decomposed on the PODM"
    );
    assert_eq!(
        app.call(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, "/v1/nodes", None).await.body,
        json!([])
    );
}

#[tokio::test]
async fn debug_output_of_the_state_and_connections_has_no_password() {
    let app = TestApp::new();
    let pod = sim("pod", 2, 1).await;
    let uuid = app.register("pod", &pod).await;
    let row = app
        .state
        .db
        .run(move |conn| valence_db::pod_managers::get(conn, uuid.parse().unwrap()))
        .await
        .unwrap();
    let config = valence_api::service::podms::podm_config(&app.state, &row).unwrap();
    let conn = valence_api::service::podms::connection(&app.state, &row)
        .await
        .unwrap();
    for text in [
        format!("{:?}", app.state),
        format!("{row:?}"),
        format!("{config:?}"),
        format!("{:?}", app.state.connections),
    ] {
        assert!(!text.contains(crate::harness::PASSWORD), "{text}");
    }
    drop(conn);
}

#[tokio::test]
async fn with_a_key_passwords_are_sealed_at_rest_and_still_work() {
    use valence_api::secrets::{SecretBox, SecretKey};
    let key = SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let app = TestApp::with_secrets(SecretBox::new(Some(key), vec![]));
    let pod = sim("pod", 2, 1).await;
    let uuid = app.register("pod", &pod).await;
    let row = app
        .state
        .db
        .run(move |conn| valence_db::pod_managers::get(conn, uuid.parse().unwrap()))
        .await
        .unwrap();
    let stored = row.password_secret.as_ref().unwrap().expose().to_owned();
    assert!(stored.starts_with("$vsec1$"), "{stored}");
    assert!(!stored.contains(crate::harness::PASSWORD));
    // The sealed password is what the connection logs in with.
    let listed = app
        .call(Method::GET, "/v1/systems?refresh=true", None)
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2, "{}", listed.text);
}

#[tokio::test]
async fn a_change_shows_in_the_very_next_list() {
    let app = TestApp::new();
    let pod = sim("pod", 2, 1).await;
    let uuid = app.register("pod", &pod).await;
    let first = app.call(Method::GET, "/v1/pod_managers", None).await;
    assert_eq!(first.body[0]["description"], serde_json::Value::Null);
    let again = app.call(Method::GET, "/v1/pod_managers", None).await;
    assert_eq!(
        again.text, first.text,
        "identical requests, identical answers"
    );
    let patched = app
        .call(
            Method::PATCH,
            &format!("/v1/pod_managers/{uuid}"),
            Some(serde_json::json!({"description": "rack 7"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let after = app.call(Method::GET, "/v1/pod_managers", None).await;
    assert_eq!(after.body[0]["description"], "rack 7", "{}", after.text);
}
