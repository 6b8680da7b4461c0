//! Connect and total timeouts, stalls and resets: every failure is a typed error, never a hang.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use valence_http_client::{Auth, Error, PodmClient, TlsPolicy, Url};

use crate::harness::{config, read_request_head, serve_raw};

/// Liveness bound: far above every configured timeout, far below a hang.
const LIVENESS: Duration = Duration::from_secs(20);

async fn within_liveness<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIVENESS, call)
        .await
        .expect("the client hung instead of returning an error")
}

#[tokio::test]
async fn closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut cfg = config(Url::parse(&format!("http://{addr}")).unwrap(), Auth::None);
    cfg.retry.max_attempts = 1;
    let client = PodmClient::new(cfg).unwrap();

    let err = within_liveness(client.get_value("/redfish/v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_unreachable() && err.is_retryable());
    assert_eq!(err.url(), format!("http://{addr}/redfish/v1"));
}

#[tokio::test]
async fn tls_handshake_that_never_completes_hits_the_connect_timeout() {
    // Accepts TCP, then says nothing: the TLS handshake never finishes.
    let server = serve_raw(|tcp, _| async move {
        let _held = tcp;
        std::future::pending::<()>().await;
    })
    .await;
    let mut cfg = config(server.https_url(), Auth::None);
    cfg.tls = TlsPolicy::InsecureNoVerify;
    cfg.connect_timeout = Duration::from_millis(300);
    cfg.request_timeout = Duration::from_secs(10);
    cfg.retry.max_attempts = 1;
    let client = PodmClient::new(cfg).unwrap();

    let err = within_liveness(client.get_value("/redfish/v1"))
        .await
        .unwrap_err();
    match &err {
        Error::Connect { detail, .. } => assert!(detail.contains("no connection within"), "{err}"),
        other => panic!("expected a connect timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn listener_that_never_accepts_hits_the_total_timeout() {
    // The kernel completes the TCP handshake from the backlog; nobody ever reads the request.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cfg = config(Url::parse(&format!("http://{addr}")).unwrap(), Auth::None);
    cfg.request_timeout = Duration::from_millis(500);
    let client = PodmClient::new(cfg).unwrap();

    let err = within_liveness(client.get_value("/redfish/v1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(500)),
        "{err:?}"
    );
    assert!(err.is_unreachable());
    drop(listener);
}

#[tokio::test]
async fn server_that_reads_but_never_answers_hits_the_total_timeout() {
    let server = serve_raw(|mut tcp, _| async move {
        read_request_head(&mut tcp).await;
        std::future::pending::<()>().await;
    })
    .await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.request_timeout = Duration::from_millis(500);
    let client = PodmClient::new(cfg).unwrap();

    let err = within_liveness(client.get_value("/redfish/v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn body_that_stalls_after_the_headers_hits_the_total_timeout() {
    let server = serve_raw(|mut tcp, _| async move {
        read_request_head(&mut tcp).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Id\":")
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.request_timeout = Duration::from_millis(500);
    let client = PodmClient::new(cfg).unwrap();

    let err = within_liveness(client.get_value("/redfish/v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

async fn resetting_server() -> crate::harness::TestServer {
    serve_raw(|tcp, _| async move {
        // Zero linger: close with RST rather than FIN.
        let _ = tcp.set_zero_linger();
        drop(tcp);
    })
    .await
}

#[tokio::test]
async fn reset_connection_is_a_transport_error_after_bounded_retries_for_get() {
    let server = resetting_server().await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let err = within_liveness(client.get_value("/redfish/v1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. } | Error::Connect { .. }),
        "{err:?}"
    );
    assert!(err.is_unreachable());
    assert_eq!(server.accepted(), 3, "max_attempts is 3");
}

#[tokio::test]
async fn reset_connection_is_not_retried_for_post() {
    let server = resetting_server().await;
    let client = PodmClient::new(config(server.url(), Auth::None)).unwrap();

    let err = within_liveness(client.post_json("/redfish/v1/Nodes", &serde_json::json!({})))
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert_eq!(server.accepted(), 1);
}
