//! TLS policies against loopback servers with rcgen certificates, and what a failure says.

use axum::Router;
use axum::routing::get;
use serde_json::json;
use valence_http_client::{Auth, Error, PodmClient, TlsPolicy};

use crate::harness::{TestServer, ca_and_leaf, config, self_signed, serve, serve_tls};

fn root() -> Router {
    Router::new().route(
        "/redfish/v1",
        get(|| async { axum::Json(json!({"Id": "RootService"})) }),
    )
}

fn client(server: &TestServer, tls: TlsPolicy) -> PodmClient {
    let mut cfg = config(server.https_url(), Auth::None);
    cfg.tls = tls;
    PodmClient::new(cfg).unwrap()
}

fn tls_detail(err: &Error) -> &str {
    match err {
        Error::Tls { detail, .. } => detail,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn pinned_self_signed_certificate_is_accepted() {
    let cert = self_signed(&["localhost", "127.0.0.1"]);
    let server = serve_tls(root(), &cert).await;
    let client = client(
        &server,
        TlsPolicy::PinnedCa {
            pem: cert.cert_pem.clone(),
        },
    );
    let root = client.get_value("/redfish/v1").await.unwrap();
    assert_eq!(root["Id"], "RootService");
}

#[tokio::test]
async fn pinned_ca_accepts_the_certificates_it_issued() {
    let (ca_pem, leaf) = ca_and_leaf("PODM CA", &["127.0.0.1"]);
    let server = serve_tls(root(), &leaf).await;
    let client = client(&server, TlsPolicy::PinnedCa { pem: ca_pem });
    client.get_value("/redfish/v1").await.unwrap();
}

#[tokio::test]
async fn system_roots_reject_a_self_signed_certificate_as_unknown_issuer() {
    let cert = self_signed(&["127.0.0.1"]);
    let server = serve_tls(root(), &cert).await;
    let client = client(&server, TlsPolicy::SystemRoots);

    let err = client.get_value("/redfish/v1").await.unwrap_err();
    assert!(tls_detail(&err).contains("unknown issuer"), "{err}");
    assert!(err.is_unreachable() && !err.is_retryable());
    assert_eq!(server.accepted(), 1, "a TLS failure is not retried");
}

#[tokio::test]
async fn certificate_for_another_name_is_a_name_mismatch() {
    let cert = self_signed(&["podm.example"]);
    let server = serve_tls(root(), &cert).await;
    let client = client(
        &server,
        TlsPolicy::PinnedCa {
            pem: cert.cert_pem.clone(),
        },
    );

    let err = client.get_value("/redfish/v1").await.unwrap_err();
    let detail = tls_detail(&err);
    assert!(detail.contains("name mismatch"), "{detail}");
    assert!(
        detail.contains("podm.example") && detail.contains("127.0.0.1"),
        "{detail}"
    );
}

#[tokio::test]
async fn certificate_from_another_ca_is_an_unknown_issuer() {
    let (_, leaf) = ca_and_leaf("PODM CA", &["127.0.0.1"]);
    let (other_ca, _) = ca_and_leaf("Other CA", &["127.0.0.1"]);
    let server = serve_tls(root(), &leaf).await;
    let client = client(&server, TlsPolicy::PinnedCa { pem: other_ca });

    let err = client.get_value("/redfish/v1").await.unwrap_err();
    assert!(tls_detail(&err).contains("unknown issuer"), "{err}");
}

#[tokio::test]
async fn certificate_from_a_namesake_ca_has_a_bad_signature() {
    // Two CAs with the same name: the issuer matches by name, the signature does not.
    let (_, leaf) = ca_and_leaf("PODM CA", &["127.0.0.1"]);
    let (namesake_ca, _) = ca_and_leaf("PODM CA", &["127.0.0.1"]);
    let server = serve_tls(root(), &leaf).await;
    let client = client(&server, TlsPolicy::PinnedCa { pem: namesake_ca });

    let err = client.get_value("/redfish/v1").await.unwrap_err();
    assert!(tls_detail(&err).contains("bad signature"), "{err}");
}

#[tokio::test]
async fn insecure_mode_accepts_any_certificate() {
    let cert = self_signed(&["podm.example"]);
    let server = serve_tls(root(), &cert).await;
    let client = client(&server, TlsPolicy::InsecureNoVerify);
    client.get_value("/redfish/v1").await.unwrap();
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_so() {
    let server = serve(root()).await;
    let client = client(&server, TlsPolicy::InsecureNoVerify);

    let err = client.get_value("/redfish/v1").await.unwrap_err();
    assert!(tls_detail(&err).contains("plain HTTP"), "{err}");
}
