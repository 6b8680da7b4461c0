//! Basic auth and Redfish sessions: what needs credentials, login and logout, expiry, counters.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;
use valence_podm_sim::{Credentials, SimConfig};

use crate::client::{Auth, Client};
use crate::{eventually, message_ids, sim};

fn secured(timeout: Duration) -> SimConfig {
    SimConfig {
        credentials: Some(Credentials::new("admin", "s3cret")),
        session_timeout: timeout,
        ..SimConfig::default()
    }
}

async fn login(client: &Client, user: &str, password: &str) -> crate::client::Resp {
    client
        .post(
            "/redfish/v1/SessionService/Sessions",
            &json!({"UserName": user, "Password": password}),
        )
        .await
}

#[tokio::test]
async fn basic_auth_guards_everything_but_the_service_root() {
    let (podm, anonymous) = sim(secured(Duration::from_secs(60))).await;
    assert_eq!(anonymous.get("/redfish/v1").await.status, StatusCode::OK);
    assert_eq!(anonymous.get("/redfish/v1/").await.status, StatusCode::OK);
    let resp = anonymous.get("/redfish/v1/Systems").await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.NoValidSession"]);
    // unknown paths do not tell strangers what exists
    assert_eq!(
        anonymous.get("/redfish/v1/Nowhere").await.status,
        StatusCode::UNAUTHORIZED
    );

    let wrong = anonymous
        .clone()
        .with_auth(Auth::Basic("admin".into(), "guess".into()));
    assert_eq!(
        wrong.get("/redfish/v1/Systems").await.status,
        StatusCode::UNAUTHORIZED
    );
    let right = anonymous
        .clone()
        .with_auth(Auth::Basic("admin".into(), "s3cret".into()));
    assert_eq!(
        right.get("/redfish/v1/Systems").await.status,
        StatusCode::OK
    );
    assert_eq!(
        right
            .post("/redfish/v1/Nodes/Actions/Allocate", &json!({}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(podm.stats().auth_failures, 3);
}

#[tokio::test]
async fn sessions_log_in_and_out() {
    let (podm, anonymous) = sim(secured(Duration::from_secs(60))).await;
    let root = anonymous.get_json("/redfish/v1").await;
    assert_eq!(
        root["Links"]["Sessions"]["@odata.id"],
        "/redfish/v1/SessionService/Sessions"
    );

    let resp = login(&anonymous, "admin", "s3cret").await;
    assert_eq!(resp.status, StatusCode::CREATED);
    let token = resp.header("x-auth-token").unwrap().to_owned();
    let location = resp.header("location").unwrap().to_owned();
    assert_eq!(resp.json()["UserName"], "admin");
    assert_eq!(podm.sessions_open(), 1);

    let session = anonymous.clone().with_auth(Auth::Token(token.clone()));
    assert_eq!(
        session.get("/redfish/v1/Systems").await.status,
        StatusCode::OK
    );
    let listing = session
        .get_json("/redfish/v1/SessionService/Sessions")
        .await;
    assert_eq!(listing["Members"][0]["@odata.id"], location.as_str());
    assert_eq!(session.get_json(&location).await["UserName"], "admin");

    assert_eq!(
        session.delete(&location).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        session.get("/redfish/v1/Systems").await.status,
        StatusCode::UNAUTHORIZED
    );
    let stats = podm.stats();
    assert_eq!(
        (stats.logins, stats.logouts, stats.sessions_open),
        (1, 1, 0)
    );

    let resp = login(&anonymous, "admin", "wrong").await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert!(resp.header("x-auth-token").is_none());
    let resp = anonymous
        .post(
            "/redfish/v1/SessionService/Sessions",
            &json!({"UserName": "admin"}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(message_ids(&resp.json()), ["Base.1.0.PropertyMissing"]);
    assert_eq!(podm.stats().logins, 1);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let (podm, anonymous) = sim(secured(Duration::from_millis(200))).await;
    let resp = login(&anonymous, "admin", "s3cret").await;
    let session = anonymous.with_auth(Auth::Token(resp.header("x-auth-token").unwrap().to_owned()));
    assert_eq!(
        session.get_json("/redfish/v1/SessionService").await["SessionTimeout"],
        1,
        "whole seconds, rounded up"
    );
    // polled through the handle: every request with the token would keep the session alive
    eventually(Duration::from_secs(10), "session expires", || async {
        podm.sessions_open() == 0
    })
    .await;
    assert_eq!(
        session.get("/redfish/v1/Systems").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(podm.stats().sessions_expired >= 1);
}

#[tokio::test]
async fn a_restart_forgets_sessions() {
    let (podm, anonymous) = sim(secured(Duration::from_secs(60))).await;
    let resp = login(&anonymous, "admin", "s3cret").await;
    let session = anonymous.with_auth(Auth::Token(resp.header("x-auth-token").unwrap().to_owned()));
    assert_eq!(
        session.get("/redfish/v1/Systems").await.status,
        StatusCode::OK
    );
    podm.restart().await.unwrap();
    assert_eq!(
        session.get("/redfish/v1/Systems").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_credentials_everything_is_open_and_sessions_optional() {
    let (podm, client) = sim(SimConfig {
        session_service: false,
        ..SimConfig::default()
    })
    .await;
    let root = client.get_json("/redfish/v1").await;
    assert!(root.get("SessionService").is_none());
    assert_eq!(
        client.get("/redfish/v1/Systems").await.status,
        StatusCode::OK
    );
    let resp = login(&client, "anyone", "anything").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);

    let (_open, client) = sim(SimConfig::default()).await;
    let resp = login(&client, "anyone", "anything").await;
    assert_eq!(
        resp.status,
        StatusCode::CREATED,
        "any login works on an open PODM"
    );
    let resp = client
        .try_send(Method::GET, "/redfish/v1/Systems", None)
        .await
        .unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(podm.stats().auth_failures, 0);
}
