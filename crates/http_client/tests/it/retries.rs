//! Retries: idempotent methods only, on 503 and connection errors, honouring Retry-After, bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use valence_http_client::{Auth, Error, PodmClient};

use crate::harness::{TestServer, config, read_request_head, serve, serve_raw};

/// Answers 503 (with `retry_after` when given) to the first `failures` requests, then 200.
/// Records when each request arrived.
struct Flaky {
    failures: usize,
    retry_after: Option<&'static str>,
    arrivals: Mutex<Vec<Instant>>,
}

impl Flaky {
    async fn serve(failures: usize, retry_after: Option<&'static str>) -> (TestServer, Arc<Self>) {
        let flaky = Arc::new(Flaky {
            failures,
            retry_after,
            arrivals: Mutex::default(),
        });
        let state = flaky.clone();
        let router = Router::new().route(
            "/redfish/v1/Systems",
            any(move || {
                let state = state.clone();
                async move { state.answer() }
            }),
        );
        (serve(router).await, flaky)
    }

    fn answer(&self) -> Response {
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push(Instant::now());
        if arrivals.len() > self.failures {
            return axum::Json(json!({"Members": []})).into_response();
        }
        let body = axum::Json(json!({"error": {"code": "Base.1.0.ServiceTemporarilyUnavailable"}}));
        match self.retry_after {
            Some(seconds) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", seconds)],
                body,
            )
                .into_response(),
            None => (StatusCode::SERVICE_UNAVAILABLE, body).into_response(),
        }
    }

    fn attempts(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }
}

#[tokio::test]
async fn get_is_retried_on_503_after_the_retry_after_delay() {
    let (server, flaky) = Flaky::serve(1, Some("1")).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    client.get_value("/redfish/v1/Systems").await.unwrap();

    assert_eq!(flaky.attempts(), 2);
    let arrivals = flaky.arrivals.lock().unwrap();
    // A lower bound only: the client must not come back before the PODM asked it to.
    assert!(arrivals[1] - arrivals[0] >= Duration::from_secs(1));
}

#[tokio::test]
async fn delete_is_retried_on_503() {
    let (server, flaky) = Flaky::serve(2, None).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    client.delete("/redfish/v1/Systems").await.unwrap();
    assert_eq!(flaky.attempts(), 3);
}

#[tokio::test]
async fn post_and_patch_are_never_retried() {
    let (server, flaky) = Flaky::serve(1, Some("0")).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let err = client
        .post_json("/redfish/v1/Systems", &json!({"Name": "n"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable(), "the caller may decide to retry itself");
    assert_eq!(flaky.attempts(), 1);

    let (server, flaky) = Flaky::serve(1, Some("0")).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();
    let err = client
        .patch_json("/redfish/v1/Systems", &json!({"Name": "n"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(flaky.attempts(), 1);
}

#[tokio::test]
async fn retries_stop_at_max_attempts() {
    let (server, flaky) = Flaky::serve(usize::MAX, Some("0")).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let err = client.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 503, .. }), "{err:?}");
    assert_eq!(
        err.redfish().and_then(|r| r.message_id.as_deref()),
        Some("Base.1.0.ServiceTemporarilyUnavailable")
    );
    assert_eq!(flaky.attempts(), 3);
}

#[tokio::test]
async fn retry_after_longer_than_max_backoff_returns_the_503_at_once() {
    let (server, flaky) = Flaky::serve(usize::MAX, Some("60")).await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let err = client.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(flaky.attempts(), 1);
}

#[tokio::test]
async fn retry_never_waits_past_the_deadline() {
    let (server, flaky) = Flaky::serve(usize::MAX, Some("2")).await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.retry.max_backoff = Duration::from_secs(10);
    cfg.request_timeout = Duration::from_secs(1);
    let client = PodmClient::new(cfg).unwrap();

    // The 503 itself, not a timeout: waiting 2 s could not fit in the 1 s budget.
    let err = client.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
    assert_eq!(flaky.attempts(), 1);
}

#[tokio::test]
async fn get_is_retried_after_a_connection_reset() {
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    let server = serve_raw(move |mut tcp, number| {
        let counter = counter.clone();
        async move {
            if number == 1 {
                let _ = tcp.set_zero_linger();
                return;
            }
            read_request_head(&mut tcp).await;
            counter.fetch_add(1, Ordering::SeqCst);
            let body = br#"{"Id":"RootService"}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            let _ = tcp.write_all(body).await;
        }
    })
    .await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let root = client.get_value("/redfish/v1").await.unwrap();
    assert_eq!(root["Id"], "RootService");
    assert_eq!(server.accepted(), 2);
    assert_eq!(answered.load(Ordering::SeqCst), 1);
}
