//! Integration tests of the PODM simulator over real HTTP on loopback: one test binary with a
//! shared harness (client, discovery, polling).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod client;
mod compose;
mod devices;
mod faults;
mod fleet;
mod shapes;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use valence_podm_sim::{SimConfig, SimPodm, start};

use client::{Client, Resp, path_of};

/// The shared fixtures directory (see `valence_fixtures`).
pub fn fixtures_dir() -> PathBuf {
    valence_fixtures::dir()
}

pub fn fixture(relative: &str) -> Value {
    let path = fixtures_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub async fn sim(config: SimConfig) -> (SimPodm, Client) {
    let podm = start(config).await.expect("simulator starts");
    let client = Client::new(&podm);
    (podm, client)
}

/// Polls `check` until it holds, failing after `deadline`.
pub async fn eventually<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{what}: not true within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The Nodes collection path, found from the service root as a client must: top level in RSD
/// 2.1, under `Oem.Intel_RackScale` later.
pub async fn nodes_path(client: &Client) -> String {
    let root = client.get_json("/redfish/v1").await;
    let link = root
        .get("Nodes")
        .or_else(|| root.pointer("/Oem/Intel_RackScale/Nodes"))
        .expect("service root lists Nodes");
    link["@odata.id"].as_str().unwrap().to_owned()
}

/// The Allocate target advertised by the Nodes collection.
pub async fn allocate_target(client: &Client) -> String {
    let nodes = client.get_json(&nodes_path(client).await).await;
    nodes["Actions"]["#ComposedNodeCollection.Allocate"]["target"]
        .as_str()
        .expect("Nodes collection advertises Allocate")
        .to_owned()
}

pub async fn allocate(client: &Client, body: &Value) -> Resp {
    let target = allocate_target(client).await;
    client.post(&target, body).await
}

/// Allocates and returns the node path (from the `Location` header).
pub async fn allocate_ok(client: &Client, body: &Value) -> String {
    let resp = allocate(client, body).await;
    assert_eq!(
        resp.status,
        http::StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    path_of(resp.header("location").expect("Location header"))
}

/// The action target `name` of the resource at `path`.
pub async fn action_target(client: &Client, path: &str, name: &str) -> String {
    let resource = client.get_json(path).await;
    resource["Actions"][name]["target"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} has no action {name}"))
        .to_owned()
}

/// The `MessageId`s of a Redfish error body.
pub fn message_ids(body: &Value) -> Vec<String> {
    body["error"]["@Message.ExtendedInfo"]
        .as_array()
        .map(|infos| {
            infos
                .iter()
                .filter_map(|i| i["MessageId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
