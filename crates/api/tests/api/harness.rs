//! Shared harness: an `AppState` on a temporary SQLite file, requests through the router, and
//! simulated PODMs.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use valence_api::{AppState, Settings};
use valence_podm_sim::{Credentials, SimConfig, SimPodm};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "sim-pass-7Q2";

pub struct TestApp {
    pub state: AppState,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub fn new() -> TestApp {
        Self::with_secrets(valence_api::secrets::SecretBox::default())
    }

    pub fn with_secrets(secrets: valence_api::secrets::SecretBox) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("valence.db").display());
        let db = valence_db::Db::connect(&url, &valence_db::DbOptions::default()).unwrap();
        let defaults = Settings::default();
        let settings = Settings {
            probe_timeout: Duration::from_secs(2),
            podm_request_timeout: Duration::from_secs(5),
            aggregator: valence_redfish::AggregatorConfig {
                call_timeout: Duration::from_secs(3),
                ..defaults.aggregator.clone()
            },
            ..defaults
        };
        let state = AppState::new(db, settings).with_secrets(secrets);
        TestApp {
            router: valence_api::router(state.clone()),
            state,
            _dir: dir,
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_with(method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(
            !text.contains(PASSWORD),
            "a response carried the PODM password: {text}"
        );
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Registers `sim` under `name`; returns its uuid.
    pub async fn register(&self, name: &str, sim: &SimPodm) -> String {
        let reply = self
            .call(
                Method::POST,
                "/v1/pod_managers",
                Some(register_body(name, &sim.base_url())),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.body["uuid"].as_str().unwrap().to_owned()
    }

    /// Polls the node until its state is `ready` or `failed`.
    pub async fn settled_node(&self, uuid: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let reply = self
                .call(Method::GET, &format!("/v1/nodes/{uuid}"), None)
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            let state = reply.body["state"].as_str().unwrap_or_default().to_owned();
            if state == "ready" || state == "failed" {
                return reply.body;
            }
            assert!(
                Instant::now() < deadline,
                "node {uuid} still {state} after 20 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn register_body(name: &str, url: &str) -> Value {
    json!({
        "name": name,
        "url": url,
        "authentication": [{"type": "basic", "auth_items": {"username": USER, "password": PASSWORD}}]
    })
}

pub async fn sim(name: &str, systems: usize, seed: u64) -> SimPodm {
    valence_podm_sim::start(SimConfig {
        name: name.to_owned(),
        systems,
        seed,
        credentials: Some(Credentials::new(USER, PASSWORD)),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}
