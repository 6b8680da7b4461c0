//! `GET /metrics`: the values move as the server works (requests, PODM health, composes, cache).

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, sim};

/// The value of `series` (name and labels exactly as exposed) in the scrape `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let reply = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let content_type = reply.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(reply.text.ends_with("# EOF\n"), "{}", reply.text);
    reply.text
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status() {
    let app = TestApp::new();
    for _ in 0..3 {
        app.call(Method::GET, "/v1/flavors", None).await;
    }
    let missing = "/v1/pod_managers/6a0c1d8e-0d1e-4c43-9d1b-8f3a2a0e5d11";
    assert_eq!(
        app.call(Method::GET, missing, None).await.status,
        StatusCode::NOT_FOUND
    );
    app.call(Method::GET, "/v1/no/such/thing", None).await;

    let text = scrape(&app).await;
    assert_eq!(
        value(
            &text,
            r#"valence_http_requests_total{route="/v1/flavors",method="GET",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"valence_http_request_duration_seconds_count{route="/v1/flavors",method="GET"}"#
        ),
        Some(3.0)
    );
    // The template, never the raw path: ids and junk paths cannot grow the series.
    assert_eq!(
        value(
            &text,
            r#"valence_http_requests_total{route="/v1/pod_managers/{uuid}",method="GET",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("6a0c1d8e"), "{text}");
    assert!(!text.contains("/v1/no/such"), "{text}");
    assert_eq!(
        value(
            &text,
            r#"valence_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        Some(1.0)
    );
    // The scrape in progress is in flight; it is counted once finished.
    assert_eq!(value(&text, "valence_http_requests_in_flight"), Some(1.0));
    let again = scrape(&app).await;
    assert_eq!(
        value(
            &again,
            r#"valence_http_requests_total{route="/metrics",method="GET",status="200"}"#
        ),
        Some(1.0)
    );
    assert_eq!(value(&again, "valence_db_pool_max_connections"), Some(10.0));
    assert!(value(&again, r#"valence_db_pool_connections{state="idle"}"#).is_some());
}

#[tokio::test]
async fn a_podm_going_down_flips_its_up_gauge() {
    let app = TestApp::new();
    let rack = sim("rack", 4, 11).await;
    let uuid = app.register("rack", &rack).await;
    let labels = format!(r#"{{podm="{uuid}",name="rack"}}"#);

    let text = scrape(&app).await;
    assert_eq!(
        value(&text, &format!("valence_podm_up{labels}")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &format!("valence_podm_circuit_open{labels}")),
        Some(0.0)
    );
    assert_eq!(
        value(&text, &format!("valence_podm_systems{labels}")),
        Some(4.0)
    );
    assert_eq!(
        value(&text, &format!("valence_podm_systems_free{labels}")),
        Some(4.0)
    );
    assert!(text.contains(&format!(
        r#"valence_podm_info{{podm="{uuid}",name="rack",driver="rsd",state="active"}} 1"#
    )));
    let probes = format!(
        r#"valence_podm_request_duration_seconds_count{{podm="{uuid}",name="rack",operation="list_systems"}}"#
    );
    assert!(value(&text, &probes).unwrap_or(0.0) >= 1.0, "{text}");

    rack.stop().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        valence_api::background::check_health(app.state.clone()).await;
        let text = scrape(&app).await;
        if value(&text, &format!("valence_podm_up{labels}")) == Some(0.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "still up after 20 s: {text}");
    };
    assert_eq!(
        value(&text, &format!("valence_podm_circuit_open{labels}")),
        Some(1.0)
    );
    let unreachable = format!(
        r#"valence_podm_request_errors_total{{podm="{uuid}",name="rack",operation="probe",kind="unreachable"}}"#
    );
    assert!(value(&text, &unreachable).unwrap_or(0.0) >= 1.0, "{text}");

    // Deleted: its series go with it.
    let deleted = app
        .call(Method::DELETE, &format!("/v1/pod_managers/{uuid}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let text = scrape(&app).await;
    assert!(!text.contains(&uuid), "{text}");
}

#[tokio::test]
async fn composes_are_counted_by_outcome() {
    let app = TestApp::new();
    let rack = sim("rack", 2, 5).await;
    let uuid = app.register("rack", &rack).await;

    let reply = app
        .call(Method::POST, "/v1/nodes", Some(json!({"name": "n1"})))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let node = app.settled_node(reply.body["uuid"].as_str().unwrap()).await;
    assert_eq!(node["state"], "ready", "{node}");
    let too_big = json!({"name": "n2", "properties": {"processor": {"total_cores": 100000}}});
    let refused = app.call(Method::POST, "/v1/nodes", Some(too_big)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);

    let text = scrape(&app).await;
    assert_eq!(
        value(&text, r#"valence_compose_total{outcome="ready"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"valence_compose_duration_seconds_count{outcome="ready"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&text, r#"valence_compose_total{outcome="no_valid_podm"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(&text, r#"valence_compose_total{outcome="failed"}"#),
        None
    );
    let labels = format!(r#"{{podm="{uuid}",name="rack"}}"#);
    assert_eq!(
        value(&text, &format!("valence_podm_valence_nodes{labels}")),
        Some(1.0)
    );
    let composes = format!(
        r#"valence_podm_request_duration_seconds_count{{podm="{uuid}",name="rack",operation="compose"}}"#
    );
    assert_eq!(value(&text, &composes), Some(1.0), "{text}");
}

#[tokio::test]
async fn inventory_cache_hits_and_misses_are_counted() {
    let app = TestApp::new();
    let rack = sim("rack", 2, 9).await;
    app.register("rack", &rack).await;
    let hits = r#"valence_inventory_cache_lookups_total{result="hit"}"#;
    let before = value(&scrape(&app).await, hits).unwrap_or(0.0);
    for _ in 0..3 {
        app.call(Method::GET, "/v1/systems", None).await;
    }
    let after = value(&scrape(&app).await, hits).unwrap_or(0.0);
    assert!(after >= before + 3.0, "hits {before} -> {after}");
}
