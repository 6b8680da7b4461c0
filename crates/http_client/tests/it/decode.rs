//! Decoding bodies: field paths in JSON errors, Redfish error bodies (real fixtures), excerpts.

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use valence_http_client::{Auth, Error, PodmClient};

use crate::harness::{config, fixture, serve};

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Collection {
    #[serde(rename = "Members")]
    members: Vec<Member>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Member {
    #[serde(rename = "@odata.id")]
    odata_id: String,
}

fn bad_collection() -> Value {
    json!({"Members": [
        {"@odata.id": "/redfish/v1/Systems/0"},
        {"@odata.id": "/redfish/v1/Systems/1"},
        {"@odata.id": "/redfish/v1/Systems/2"},
        {"@odata.id": 3},
    ]})
}

async fn client_for(router: Router) -> (crate::harness::TestServer, PodmClient) {
    let server = serve(router).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();
    (server, client)
}

#[tokio::test]
async fn decode_error_names_the_path_of_the_bad_field() {
    let (_server, client) = client_for(Router::new().route(
        "/redfish/v1/Systems",
        get(|| async { axum::Json(bad_collection()) }),
    ))
    .await;

    let err = client
        .get_json::<Collection>("/redfish/v1/Systems")
        .await
        .unwrap_err();
    match &err {
        Error::Decode { path, detail, url } => {
            assert_eq!(path, "Members[3].@odata.id");
            assert!(detail.contains("invalid type"), "{detail}");
            assert!(url.ends_with("/redfish/v1/Systems"));
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("Members[3].@odata.id: invalid type"),
        "{err}"
    );

    let err = client
        .collection_members("/redfish/v1/Systems")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "Members[3].@odata.id"),
        "{err:?}"
    );
}

#[tokio::test]
async fn body_that_is_not_json_is_a_decode_error() {
    let (_server, client) = client_for(
        Router::new().route("/redfish/v1", get(|| async { "<html>maintenance</html>" })),
    )
    .await;
    let err = client.get_value("/redfish/v1").await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn redfish_error_bodies_from_real_podms_are_decoded() {
    let cases = [
        (
            "valence/fake_allocate_node_conflict.json",
            StatusCode::CONFLICT,
        ),
        (
            "valence/fake_assemble_node_failed.json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "valence/fake_delete_composednode_fail.json",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ];
    for (name, status) in cases {
        let body = fixture(name);
        let expected: Value = serde_json::from_str(&body).unwrap();
        let served = body.clone();
        let (_server, client) = client_for(Router::new().route(
            "/redfish/v1/Nodes/1",
            post(move || async move { (status, [("content-type", "application/json")], served) }),
        ))
        .await;

        let err = client
            .post_json("/redfish/v1/Nodes/1", &json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status.as_u16()), "{name}");
        let redfish = err.redfish().unwrap_or_else(|| panic!("{name}: {err:?}"));
        assert_eq!(
            redfish.message_id.as_deref(),
            expected["error"]["code"].as_str(),
            "{name}"
        );
        assert_eq!(
            redfish.message.as_deref(),
            expected["error"]["message"].as_str()
        );
        let expected_messages: Vec<String> = expected["error"]["@Message.ExtendedInfo"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["Message"].as_str().unwrap().to_owned())
            .collect();
        assert!(!expected_messages.is_empty());
        assert_eq!(redfish.messages(), expected_messages, "{name}");
        // Operators see the id and the reasons in the message.
        let text = err.to_string();
        assert!(
            text.contains(redfish.message_id.as_deref().unwrap()),
            "{text}"
        );
        assert!(text.contains(&expected_messages[0]), "{text}");
    }
}

#[tokio::test]
async fn error_body_that_is_not_redfish_keeps_an_excerpt() {
    let (_server, client) = client_for(
        Router::new()
            .route(
                "/proxy",
                get(|| async {
                    (
                        StatusCode::BAD_GATEWAY,
                        format!("<html><h1>502 Bad Gateway</h1>{}</html>", "x".repeat(5000)),
                    )
                }),
            )
            .route("/empty", delete(|| async { StatusCode::NOT_FOUND })),
    )
    .await;

    let err = client.get_value("/proxy").await.unwrap_err();
    match &err {
        Error::Status {
            status: 502,
            redfish: None,
            excerpt,
            ..
        } => {
            assert!(
                excerpt.starts_with("<html><h1>502 Bad Gateway"),
                "{excerpt}"
            );
            assert!(excerpt.len() < 1000);
        }
        other => panic!("expected a 502 with an excerpt, got {other:?}"),
    }
    assert!(!err.is_retryable());

    let err = client.delete("/empty").await.unwrap_err();
    assert!(
        matches!(&err, Error::Status { status: 404, redfish: None, excerpt, .. } if excerpt.is_empty()),
        "{err:?}"
    );
}

#[tokio::test]
async fn created_response_carries_location_and_etag() {
    let (_server, client) = client_for(Router::new().route(
        "/redfish/v1/Nodes/Actions/Allocate",
        post(|| async {
            (
                StatusCode::CREATED,
                [
                    ("location", "https://podm.internal:8443/redfish/v1/Nodes/3"),
                    ("etag", "W/\"1\""),
                ],
            )
                .into_response()
        }),
    ))
    .await;

    let response = client
        .post_json("/redfish/v1/Nodes/Actions/Allocate", &json!({"Name": "n1"}))
        .await
        .unwrap();
    assert_eq!(response.status, 201);
    assert!(response.body.is_empty());
    assert_eq!(
        response.location.as_deref(),
        Some("https://podm.internal:8443/redfish/v1/Nodes/3")
    );
    assert_eq!(
        response.location_path().as_deref(),
        Some("/redfish/v1/Nodes/3")
    );
    assert_eq!(response.etag.as_deref(), Some("W/\"1\""));
}

#[tokio::test]
async fn urls_of_another_origin_are_refused_without_a_request() {
    let server = serve(Router::new()).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let err = client
        .get_value("http://elsewhere.invalid/redfish/v1")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert_eq!(server.accepted(), 0);
}
