//! Passwords and tokens never show in Debug output, errors or logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::routing::get;
use valence_http_client::{Auth, PodmClient, SecretString};

use crate::auth::{PASSWORD, SessionPodm, USER};
use crate::harness::{config, serve};

/// Everything that could leak: the password, Basic credentials, tokens the test PODM issues.
fn assert_no_secret(text: &str) {
    for secret in [PASSWORD, "YWRtaW46czNjcmV0LXBhc3M", "do-not-log"] {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

#[tokio::test]
async fn debug_of_config_client_and_errors_shows_no_secret() {
    let podm = Arc::new(SessionPodm::default());
    let server = serve(podm.router()).await;
    let cfg = config(
        server.url(),
        Auth::session(USER, SecretString::from(PASSWORD)),
    );
    assert_no_secret(&format!("{cfg:?}"));
    let client = PodmClient::new(cfg).unwrap();

    client.get_value("/redfish/v1/Systems").await.unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains(USER), "{debug}");
    assert_no_secret(&debug);

    let basic = config(
        server.url(),
        Auth::Basic {
            username: USER.into(),
            password: SecretString::from(PASSWORD),
        },
    );
    assert_no_secret(&format!("{basic:?}"));
    let basic = PodmClient::new(basic).unwrap();
    assert_no_secret(&format!("{basic:?}"));
    let err = basic.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert_no_secret(&format!("{err:?} {err}"));
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_at_trace_level_show_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // This test runs on one thread, servers included, so a thread-local subscriber sees all.
    let _guard = tracing::subscriber::set_default(subscriber);

    let podm = Arc::new(SessionPodm::default());
    let router = podm.router().route(
        "/unavailable",
        get(|| async { StatusCode::SERVICE_UNAVAILABLE }),
    );
    let server = serve(router).await;
    let session = PodmClient::new(config(
        server.url(),
        Auth::session(USER, SecretString::from(PASSWORD)),
    ))
    .unwrap();
    session.get_value("/redfish/v1/Systems").await.unwrap();
    podm.tokens.lock().unwrap().clear();
    session.get_value("/redfish/v1/Systems").await.unwrap();
    // Retries log the failure they retry.
    let _ = session.get_value("/unavailable").await.unwrap_err();
    session.logout().await.unwrap();

    let basic = PodmClient::new(config(
        server.url(),
        Auth::Basic {
            username: USER.into(),
            password: SecretString::from(PASSWORD),
        },
    ))
    .unwrap();
    let _ = basic.get_value("/redfish/v1/Systems").await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("opened a PODM session"), "{logs}");
    assert!(logs.contains("retrying PODM request"), "{logs}");
    assert_no_secret(&logs);
}
