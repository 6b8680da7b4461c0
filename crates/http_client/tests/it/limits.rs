//! The per-PODM concurrency cap and the response size cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use valence_http_client::{Auth, Error, PodmClient};

use crate::harness::{config, eventually, read_request_head, serve, serve_raw};

#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

#[tokio::test]
async fn concurrent_requests_never_exceed_the_cap() {
    const CAP: usize = 2;
    let in_flight = Arc::new(InFlight::default());
    let (release, released) = watch::channel(false);
    let state = in_flight.clone();
    let router = Router::new().route(
        "/redfish/v1/Systems/{id}",
        get(move || {
            let state = state.clone();
            let mut released = released.clone();
            async move {
                let now = state.now.fetch_add(1, Ordering::SeqCst) + 1;
                state.max.fetch_max(now, Ordering::SeqCst);
                // Hold every request until the test has seen the cap reached.
                let _ = released.wait_for(|r| *r).await;
                state.now.fetch_sub(1, Ordering::SeqCst);
                "{}"
            }
        }),
    );
    let server = serve(router).await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.max_concurrent = CAP;
    cfg.request_timeout = Duration::from_secs(10);
    let client = PodmClient::new(cfg).unwrap();

    let calls: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get_value(&format!("/redfish/v1/Systems/{i}")).await })
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(5), || in_flight
            .now
            .load(Ordering::SeqCst)
            >= CAP)
        .await
    );
    release.send(true).unwrap();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(in_flight.max.load(Ordering::SeqCst), CAP);
}

#[tokio::test]
async fn body_longer_than_the_limit_is_too_large() {
    let router = Router::new()
        .route("/big", get(|| async { "x".repeat(2000) }))
        .route(
            "/exact",
            get(|| async { format!("\"{}\"", "x".repeat(998)) }),
        );
    let server = serve(router).await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.max_response_bytes = 1000;
    let client = PodmClient::new(cfg).unwrap();

    let err = client.get_value("/big").await.unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );
    assert!(err.url().ends_with("/big"));

    let exact = client.get_value("/exact").await.unwrap();
    assert_eq!(exact.as_str().map(str::len), Some(998));
}

#[tokio::test]
async fn chunked_body_is_cut_off_at_the_limit() {
    // No Content-Length: the limit must be enforced while reading. The server would go on
    // sending for much longer than the test lasts.
    let server = serve_raw(|mut tcp, _| async move {
        read_request_head(&mut tcp).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 512, " ".repeat(512));
        for _ in 0..100_000 {
            if tcp.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.max_response_bytes = 4096;
    let client = PodmClient::new(cfg).unwrap();

    let err = client.get_value("/redfish/v1").await.unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 4096, .. }),
        "{err:?}"
    );
}
