//! Shared harness: an `AppState` on a temporary SQLite file behind the merged API and console
//! router (as `valence serve` builds it), page requests through it, and simulated PODMs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use valence_api::{AppState, Settings};
use valence_client::types;
use valence_podm_sim::{Behavior, Credentials, SimConfig, SimPodm};

pub const USER: &str = "admin";
/// The PODMs' password: no page may ever contain it.
pub const PASSWORD: &str = "sim-pass-Zq81x";
/// The `Host` of in-process requests; forms are posted with the matching `Origin`.
pub const HOST: &str = "valence.test";

pub struct TestApp {
    pub state: AppState,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

/// A page as the browser would get it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts the reply is an HTML page with `status`; returns its text.
    #[track_caller]
    pub fn page(&self, status: StatusCode) -> &str {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.content_type().starts_with("text/html"),
            "{}",
            self.content_type()
        );
        assert!(self.text.starts_with("<!DOCTYPE html>"), "{}", self.text);
        &self.text
    }
}

impl TestApp {
    pub fn new() -> TestApp {
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
        let state = AppState::new(db, settings);
        TestApp {
            router: app(state.clone()),
            state,
            _dir: dir,
        }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(
            !text.contains(PASSWORD),
            "a page carried the PODM password: {text}"
        );
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let request = Request::builder()
            .uri(path)
            .header("host", HOST)
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// Posts a form as a page of the console does (same-origin `Origin`).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, fields, &[("origin", "http://valence.test")])
            .await
    }

    pub async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            body.append_pair(name, value);
        }
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("host", HOST);
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Body::from(body.finish())).unwrap())
            .await
    }

    /// Registers `sim` under `name` through the service; returns its uuid.
    pub async fn register(&self, name: &str, sim: &SimPodm) -> String {
        let body = types::PodManagerCreate {
            name: name.to_owned(),
            url: sim.base_url(),
            driver: None,
            authentication: vec![credentials()],
            description: None,
            location: None,
            tls_verify: None,
            ca_cert: None,
        };
        valence_api::service::podms::register(&self.state, body, true)
            .await
            .unwrap()
            .uuid
    }

    /// Composes a node through the service; returns its uuid.
    pub async fn compose(&self, name: &str, podm: Option<&str>) -> String {
        let body = types::NodeCompose {
            name: name.to_owned(),
            podm_id: podm.map(str::to_owned),
            ..Default::default()
        };
        match valence_api::service::nodes::compose(&self.state, body, false, None)
            .await
            .unwrap()
        {
            valence_api::service::nodes::ComposeOutcome::Started(node) => node.uuid,
            other => panic!("compose did not start: {other:?}"),
        }
    }

    /// Polls the node until it is `ready` or `failed`; returns that state.
    pub async fn settled(&self, uuid: &str) -> String {
        let uuid = uuid::Uuid::parse_str(uuid).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let node = valence_api::service::nodes::get_row(&self.state, uuid)
                .await
                .unwrap();
            let state = node.state.as_str().to_owned();
            if state == "ready" || state == "failed" {
                return state;
            }
            assert!(Instant::now() < deadline, "node {uuid} still {state}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Serves the app on an ephemeral loopback port (for the browser).
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = self.router.clone();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        addr
    }
}

/// The router `valence serve` runs.
pub fn app(state: AppState) -> axum::Router {
    valence_api::router(state.clone()).merge(valence_web::router(state))
}

pub fn credentials() -> types::Authentication {
    types::Authentication {
        auth_type: "basic".into(),
        auth_items: types::AuthItems {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    }
}

pub async fn sim(name: &str, systems: usize, seed: u64) -> SimPodm {
    sim_with(name, systems, seed, Behavior::default()).await
}

pub async fn sim_with(name: &str, systems: usize, seed: u64, behavior: Behavior) -> SimPodm {
    valence_podm_sim::start(SimConfig {
        name: name.to_owned(),
        systems,
        seed,
        credentials: Some(Credentials::new(USER, PASSWORD)),
        behavior,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// A loopback URL where nothing listens.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// How many times `needle` occurs in `haystack`.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}
