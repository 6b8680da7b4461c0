//! Basic auth and Redfish sessions: login, token use, one re-login on 401, logout and drop.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use valence_http_client::{Auth, Error, PodmClient, SecretString};

use crate::harness::{config, eventually, serve};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "s3cret-pass";

#[tokio::test]
async fn basic_auth_and_negotiation_headers_are_sent() {
    let seen: Arc<Mutex<Option<HeaderMap>>> = Arc::default();
    let recorder = seen.clone();
    let router = Router::new().route(
        "/redfish/v1",
        get(move |headers: HeaderMap| async move {
            *recorder.lock().unwrap() = Some(headers);
            Json(json!({"Id": "RootService"}))
        }),
    );
    let server = serve(router).await;
    let client = PodmClient::new(config(
        server.url(),
        Auth::Basic {
            username: USER.into(),
            password: SecretString::from(PASSWORD),
        },
    ))
    .unwrap();

    let root = client.get_value("/redfish/v1").await.unwrap();
    assert_eq!(root["Id"], "RootService");

    let headers = seen.lock().unwrap().take().unwrap();
    // base64("admin:s3cret-pass")
    assert_eq!(headers["authorization"], "Basic YWRtaW46czNjcmV0LXBhc3M=");
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["accept-encoding"], "identity");
    assert_eq!(headers["odata-version"], "4.0");
    assert!(headers.contains_key("user-agent"));
}

#[tokio::test]
async fn basic_auth_refused_is_an_auth_error_without_retry() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/redfish/v1/Systems",
        get(move || async move {
            counter.fetch_add(1, Ordering::SeqCst);
            StatusCode::UNAUTHORIZED
        }),
    );
    let server = serve(router).await;
    let client = PodmClient::new(config(
        server.url(),
        Auth::Basic {
            username: USER.into(),
            password: SecretString::from("wrong"),
        },
    ))
    .unwrap();

    let err = client.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains(USER), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A PODM with a session service. Tokens can be revoked by the test to simulate expiry.
#[derive(Default)]
pub struct SessionPodm {
    pub logins: AtomicUsize,
    pub tokens: Mutex<HashSet<String>>,
    /// (session id, X-Auth-Token sent with the DELETE)
    pub deletes: Mutex<Vec<(String, Option<String>)>>,
    pub resource_hits: AtomicUsize,
    pub always_unauthorized: AtomicBool,
}

impl SessionPodm {
    pub fn logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }

    pub fn deletes(&self) -> Vec<(String, Option<String>)> {
        self.deletes.lock().unwrap().clone()
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/redfish/v1/SessionService/Sessions", post(login))
            .route("/redfish/v1/SessionService/Sessions/{id}", delete(logout))
            .route("/redfish/v1/Systems", get(systems))
            .route("/redfish/v1/Nodes/Actions/Allocate", post(allocate))
            .with_state(self.clone())
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        self.resource_hits.fetch_add(1, Ordering::SeqCst);
        let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
        !self.always_unauthorized.load(Ordering::SeqCst)
            && token.is_some_and(|t| self.tokens.lock().unwrap().contains(t))
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": "Base.1.0.NoValidSession", "message": "No valid session"}})),
    )
        .into_response()
}

async fn login(State(podm): State<Arc<SessionPodm>>, Json(body): Json<Value>) -> Response {
    if body["UserName"] != USER || body["Password"] != PASSWORD {
        return unauthorized();
    }
    // Slow enough that concurrent first requests would each log in if the client let them.
    tokio::task::yield_now().await;
    let n = podm.logins.fetch_add(1, Ordering::SeqCst) + 1;
    let token = format!("token-{n}-do-not-log");
    podm.tokens.lock().unwrap().insert(token.clone());
    let location = format!("/redfish/v1/SessionService/Sessions/{n}");
    (
        StatusCode::CREATED,
        [("x-auth-token", token), ("location", location.clone())],
        Json(json!({"@odata.id": location, "Id": n.to_string(), "UserName": USER})),
    )
        .into_response()
}

async fn logout(
    State(podm): State<Arc<SessionPodm>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> StatusCode {
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(token) = &token {
        podm.tokens.lock().unwrap().remove(token);
    }
    podm.deletes.lock().unwrap().push((id, token));
    StatusCode::NO_CONTENT
}

async fn systems(State(podm): State<Arc<SessionPodm>>, headers: HeaderMap) -> Response {
    if !podm.authorized(&headers) {
        return unauthorized();
    }
    Json(json!({"Members": [{"@odata.id": "/redfish/v1/Systems/1"}]})).into_response()
}

async fn allocate(State(podm): State<Arc<SessionPodm>>, headers: HeaderMap) -> Response {
    if !podm.authorized(&headers) {
        return unauthorized();
    }
    (StatusCode::CREATED, [("location", "/redfish/v1/Nodes/7")]).into_response()
}

async fn session_client(podm: &Arc<SessionPodm>) -> (crate::harness::TestServer, PodmClient) {
    let server = serve(podm.router()).await;
    let client = PodmClient::new(config(
        server.url(),
        Auth::session(USER, SecretString::from(PASSWORD)),
    ))
    .unwrap();
    (server, client)
}

#[tokio::test]
async fn session_logs_in_once_reuses_the_token_and_logs_out() {
    let podm = Arc::new(SessionPodm::default());
    let (_server, client) = session_client(&podm).await;

    client.get_value("/redfish/v1/Systems").await.unwrap();
    client.get_value("/redfish/v1/Systems").await.unwrap();
    assert_eq!(podm.logins(), 1);

    client.logout().await.unwrap();
    assert_eq!(
        podm.deletes(),
        vec![("1".to_owned(), Some("token-1-do-not-log".to_owned()))]
    );
    assert!(podm.tokens.lock().unwrap().is_empty());

    // Logging out twice does nothing; the next request opens a new session.
    client.logout().await.unwrap();
    assert_eq!(podm.deletes().len(), 1);
    client.get_value("/redfish/v1/Systems").await.unwrap();
    assert_eq!(podm.logins(), 2);
}

#[tokio::test]
async fn expired_session_is_replaced_once_for_get_and_post() {
    let podm = Arc::new(SessionPodm::default());
    let (_server, client) = session_client(&podm).await;

    client.get_value("/redfish/v1/Systems").await.unwrap();
    podm.tokens.lock().unwrap().clear();
    client.get_value("/redfish/v1/Systems").await.unwrap();
    assert_eq!(podm.logins(), 2);

    // A 401 means the POST was not acted on, so it is sent again with the new session.
    podm.tokens.lock().unwrap().clear();
    let created = client
        .post_json("/redfish/v1/Nodes/Actions/Allocate", &json!({}))
        .await
        .unwrap();
    assert_eq!(created.status, 201);
    assert_eq!(
        created.location_path().as_deref(),
        Some("/redfish/v1/Nodes/7")
    );
    assert_eq!(podm.logins(), 3);
}

#[tokio::test]
async fn second_401_after_relogin_gives_up_with_auth_error() {
    let podm = Arc::new(SessionPodm::default());
    podm.always_unauthorized.store(true, Ordering::SeqCst);
    let (_server, client) = session_client(&podm).await;

    let err = client.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("new session"), "{err}");
    assert_eq!(podm.logins(), 2);
    assert_eq!(podm.resource_hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refused_login_is_an_auth_error_naming_the_user() {
    let podm = Arc::new(SessionPodm::default());
    let server = serve(podm.router()).await;
    let client = PodmClient::new(config(
        server.url(),
        Auth::session(USER, SecretString::from("wrong")),
    ))
    .unwrap();

    let err = client.get_value("/redfish/v1/Systems").await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(USER) && text.contains("401"), "{text}");
    assert!(text.contains("Base.1.0.NoValidSession"), "{text}");
    assert_eq!(podm.resource_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_login() {
    let podm = Arc::new(SessionPodm::default());
    let (_server, client) = session_client(&podm).await;

    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_value("/redfish/v1/Systems").await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(podm.logins(), 1);
}

#[tokio::test]
async fn dropping_the_last_clone_logs_the_session_out() {
    let podm = Arc::new(SessionPodm::default());
    let (_server, client) = session_client(&podm).await;
    client.get_value("/redfish/v1/Systems").await.unwrap();

    let clone = client.clone();
    drop(client);
    assert!(podm.deletes().is_empty(), "a clone is still alive");
    drop(clone);

    assert!(eventually(Duration::from_secs(5), || podm.deletes().len() == 1).await);
    assert_eq!(podm.deletes()[0].1.as_deref(), Some("token-1-do-not-log"));
}

#[tokio::test]
async fn bearer_token_is_sent_and_request_returns_error_statuses_as_responses() {
    let seen: Arc<Mutex<Option<HeaderMap>>> = Arc::default();
    let recorder = seen.clone();
    let router = Router::new().route(
        "/v1/nodes",
        get(move |headers: HeaderMap| async move {
            *recorder.lock().unwrap() = Some(headers);
            (
                StatusCode::CONFLICT,
                Json(json!({"code": "NoValidPodm", "detail": "nothing fits"})),
            )
        }),
    );
    let server = serve(router).await;
    let client = PodmClient::new(config(
        server.url(),
        Auth::Bearer {
            token: SecretString::from("tok-123"),
        },
    ))
    .unwrap();
    assert!(!format!("{client:?}").contains("tok-123"));

    let response = client
        .request(valence_http_client::Method::GET, "/v1/nodes", None)
        .await
        .unwrap();
    assert_eq!(response.status, 409);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["code"], "NoValidPodm");
    let headers = seen.lock().unwrap().take().unwrap();
    assert_eq!(headers["authorization"], "Bearer tok-123");

    // The plain calls still turn error statuses into errors.
    let err = client.get_value("/v1/nodes").await.unwrap_err();
    assert_eq!(err.status(), Some(409));
}

#[tokio::test]
async fn request_with_headers_sends_the_extra_headers_with_the_credential() {
    let seen: Arc<Mutex<Option<HeaderMap>>> = Arc::default();
    let recorder = seen.clone();
    let router = Router::new().route(
        "/v1/nodes",
        post(move |headers: HeaderMap| async move {
            *recorder.lock().unwrap() = Some(headers);
            (StatusCode::ACCEPTED, Json(json!({"uuid": "n1"})))
        }),
    );
    let server = serve(router).await;
    let client = PodmClient::new(config(
        server.url(),
        Auth::Bearer {
            token: SecretString::from("tok-123"),
        },
    ))
    .unwrap();
    let mut extra = HeaderMap::new();
    extra.insert("idempotency-key", "key-1".parse().unwrap());
    let response = client
        .request_with_headers(
            valence_http_client::Method::POST,
            "/v1/nodes",
            Some(&json!({"name": "n"})),
            &extra,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 202);
    let headers = seen.lock().unwrap().take().unwrap();
    assert_eq!(headers["idempotency-key"], "key-1");
    assert_eq!(headers["authorization"], "Bearer tok-123");
    assert_eq!(headers["content-type"], "application/json");
}
