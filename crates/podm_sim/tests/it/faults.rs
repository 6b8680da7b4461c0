//! Each way a simulated PODM can misbehave, switched on and off at run time through the handle.

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::{Value, json};
use valence_podm_sim::{Behavior, SimConfig};

use crate::client::path_of;
use crate::{allocate_ok, eventually, message_ids, sim};

#[tokio::test]
async fn error_rate_answers_500_with_a_redfish_body() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| b.error_rate = 1.0).unwrap();
    let resp = client.get("/redfish/v1").await;
    assert_eq!(resp.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.InternalError"]);
    podm.update_behavior(|b| b.error_rate = 0.0).unwrap();
    assert_eq!(client.get("/redfish/v1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn unavailable_rate_answers_503_with_retry_after() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| {
        b.unavailable_rate = 1.0;
        b.retry_after = Duration::from_millis(1500);
    })
    .unwrap();
    let resp = client.get("/redfish/v1/Systems").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.header("retry-after"), Some("2"));
    assert_eq!(
        message_ids(&resp.json()),
        ["Base.1.0.ServiceTemporarilyUnavailable"]
    );
}

#[tokio::test]
async fn faults_can_be_limited_to_a_path_prefix() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| {
        b.error_rate = 1.0;
        b.fault_path_prefix = Some("/redfish/v1/Nodes".into());
    })
    .unwrap();
    assert_eq!(
        client.get("/redfish/v1/Systems").await.status,
        StatusCode::OK
    );
    assert_eq!(
        client.get("/redfish/v1/Nodes").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        client
            .post("/redfish/v1/Nodes/Actions/Allocate", &json!({}))
            .await
            .status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(podm.stats().nodes, 0);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| b.latency = Duration::from_millis(200))
        .unwrap();
    let started = Instant::now();
    assert_eq!(client.get("/redfish/v1").await.status, StatusCode::OK);
    // a server-side sleep never ends early, so this lower bound cannot flake
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn hanging_requests_never_answer_until_the_behavior_changes() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| b.hang_rate = 1.0).unwrap();
    let err = client
        .try_send_within(Duration::from_millis(300), Method::GET, "/redfish/v1", None)
        .await
        .unwrap_err();
    assert!(err.contains("no answer"), "{err}");

    // a hung request ends, without an answer, when the behavior changes
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .try_send(Method::GET, "/redfish/v1/Systems", None)
                .await
        })
    };
    eventually(Duration::from_secs(5), "hung request arrives", || async {
        podm.request_count("GET", "/redfish/v1/Systems") == 1
    })
    .await;
    podm.update_behavior(|b| b.hang_rate = 0.0).unwrap();
    let outcome = waiting.await.unwrap();
    let err = outcome.expect_err("the hung request gets no answer");
    assert!(
        !err.contains("no answer within"),
        "closed, not timed out: {err}"
    );
    assert_eq!(
        client.get("/redfish/v1/Systems").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn reset_rate_drops_the_connection_without_an_answer() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| b.reset_rate = 1.0).unwrap();
    let err = client
        .try_send(Method::GET, "/redfish/v1", None)
        .await
        .unwrap_err();
    assert!(!err.contains("no answer within"), "reset, not hung: {err}");
    podm.update_behavior(|b| b.reset_rate = 0.0).unwrap();
    assert_eq!(client.get("/redfish/v1").await.status, StatusCode::OK);
    assert_eq!(podm.stats().requests, 2);
}

#[tokio::test]
async fn malformed_json_cuts_get_bodies() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| {
        b.malformed_json_rate = 1.0;
        b.fault_path_prefix = Some("/redfish/v1/Systems".into());
    })
    .unwrap();
    let resp = client.get("/redfish/v1/Systems/1").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&resp.body).is_err());
    assert!(!resp.body.is_empty());
    // only GET bodies are cut: composing still works
    allocate_ok(&client, &json!({})).await;
    podm.update_behavior(|b| b.fault_path_prefix = None)
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&client.get("/redfish/v1").await.body).is_err());
}

#[tokio::test]
async fn huge_responses_stay_valid_json() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| b.huge_response_bytes = 8 << 20)
        .unwrap();
    let resp = client.get("/redfish/v1/Systems").await;
    assert!(resp.body.len() >= 8 << 20);
    assert_eq!(resp.json()["Members@odata.count"], 8);
}

#[tokio::test]
async fn collections_page_with_next_links() {
    let (podm, client) = sim(SimConfig {
        systems: 8,
        behavior: Behavior {
            page_size: Some(3),
            ..Behavior::default()
        },
        ..SimConfig::default()
    })
    .await;
    let mut members = Vec::new();
    let mut next = Some("/redfish/v1/Systems".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let page = client.get_json(&path).await;
        assert_eq!(page["Members@odata.count"], 8);
        members.extend(
            page["Members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["@odata.id"].as_str().unwrap().to_owned()),
        );
        next = page["Members@odata.nextLink"].as_str().map(path_of);
        pages += 1;
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = podm
        .inventory()
        .systems
        .iter()
        .map(|s| s.odata_id())
        .collect();
    assert_eq!(members, expected);

    podm.update_behavior(|b| b.page_size = None).unwrap();
    let whole = client.get_json("/redfish/v1/Systems").await;
    assert_eq!(whole["Members"].as_array().unwrap().len(), 8);
    assert!(whole.get("Members@odata.nextLink").is_none());
}

#[tokio::test]
async fn rsd1_spellings_on_request() {
    let (podm, client) = sim(SimConfig::default()).await;
    let node = allocate_ok(&client, &json!({})).await;
    podm.update_behavior(|b| b.rsd1_spellings = true).unwrap();
    let root = client.get_json("/redfish/v1").await;
    assert!(root["Oem"].get("Intel_RackScale").is_none());
    assert_eq!(root["Oem"]["Intel:RackScale"]["ApiVersion"], "2.3.0");
    let body = client.get_json(&node).await;
    let reset = &body["Actions"]["#ComposedNode.Reset"];
    assert!(reset["ResetType@DMTF.AllowableValues"].is_array());
    assert!(reset.get("ResetType@Redfish.AllowableValues").is_none());
}

#[tokio::test]
async fn a_stopped_podm_refuses_connections_and_comes_back_on_the_same_port() {
    let (podm, client) = sim(SimConfig {
        systems: 2,
        ..SimConfig::default()
    })
    .await;
    let node = allocate_ok(&client, &json!({})).await;
    let port = podm.addr().port();
    podm.stop().await;
    assert!(!podm.is_running());
    let err = client
        .try_send(Method::GET, "/redfish/v1", None)
        .await
        .unwrap_err();
    assert!(err.starts_with("connect"), "{err}");
    podm.start().await.unwrap();
    assert_eq!(podm.addr().port(), port);
    assert_eq!(client.get("/redfish/v1").await.status, StatusCode::OK);
    assert_eq!(
        client.get(&node).await.status,
        StatusCode::OK,
        "nodes survive a restart"
    );
    podm.restart().await.unwrap();
    assert_eq!(client.get("/redfish/v1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn stop_ends_hung_requests() {
    let (podm, client) = sim(SimConfig::default()).await;
    podm.update_behavior(|b| b.hang_rate = 1.0).unwrap();
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move { client.try_send(Method::GET, "/redfish/v1", None).await })
    };
    eventually(Duration::from_secs(5), "hung request arrives", || async {
        podm.stats().requests == 1
    })
    .await;
    podm.stop().await;
    let err = waiting.await.unwrap().unwrap_err();
    assert!(!err.contains("no answer within"), "{err}");
}

#[tokio::test]
async fn requests_are_counted_by_route() {
    let (podm, client) = sim(SimConfig::default()).await;
    for id in ["1", "2", "3"] {
        client.get(&format!("/redfish/v1/Systems/{id}")).await;
    }
    client.get("/redfish/v1/Systems/1/Processors/CPU1").await;
    assert_eq!(podm.request_count("GET", "/redfish/v1/Systems/{id}"), 3);
    let counts = podm.request_counts();
    assert_eq!(counts["GET /redfish/v1/Systems/{id}/Processors/{id}"], 1);
    assert_eq!(podm.stats().requests, 4);
    podm.reset_counters();
    assert_eq!(podm.stats().requests, 0);
    assert!(podm.request_counts().is_empty());
}

#[tokio::test]
async fn invalid_behavior_is_refused_and_leaves_the_old_one() {
    let (podm, _client) = sim(SimConfig::default()).await;
    let err = podm.update_behavior(|b| b.error_rate = 2.0).unwrap_err();
    assert!(err.to_string().contains("error_rate"), "{err}");
    assert_eq!(podm.behavior(), Behavior::default());
}
