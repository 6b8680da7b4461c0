//! Crash safety: the server is killed (SIGKILL) at each PODM step of a compose and of a
//! decompose, then started again on the same database. Every run must end with the node ready
//! and recorded, or released on the PODM and marked failed (or forgotten, for a decompose):
//! never a node on the PODM Valence does not know, never a record of a node that does not exist.

use std::time::Duration;

use serde_json::{Value, json};
use valence_podm_sim::{Credentials, SimConfig, SimPodm};

use crate::harness::{Server, agent, get_json, wait_for};

const USER: &str = "admin";
const PASSWORD: &str = "crash-pass";
/// Fast health and recovery rounds so a restarted server takes over within a second or two.
const FAST: &[&str] = &[
    "--health-interval",
    "0.2",
    "--refresh-interval",
    "1",
    "--fanout-timeout",
    "3",
];

struct Rig {
    runtime: tokio::runtime::Runtime,
    sim: SimPodm,
}

fn rig() -> Rig {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(valence_podm_sim::start(SimConfig {
            systems: 2,
            credentials: Some(Credentials::new(USER, PASSWORD)),
            ..SimConfig::default()
        }))
        .unwrap();
    Rig { runtime, sim }
}

fn register(server: &Server, sim: &SimPodm) -> String {
    let body = json!({"name": "pod", "url": sim.base_url(),
        "authentication": [{"type": "basic", "auth_items": {"username": USER, "password": PASSWORD}}]});
    let mut reply = agent()
        .post(&server.url("/v1/pod_managers"))
        .send_json(&body)
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    let body: Value = reply.body_mut().read_json().unwrap();
    body["uuid"].as_str().unwrap().to_owned()
}

fn compose(server: &Server) -> String {
    let mut reply = agent()
        .post(&server.url("/v1/nodes"))
        .send_json(json!({"name": "n"}))
        .unwrap();
    assert_eq!(reply.status().as_u16(), 202);
    let body: Value = reply.body_mut().read_json().unwrap();
    body["uuid"].as_str().unwrap().to_owned()
}

fn node(server: &Server, uuid: &str) -> Value {
    get_json(&server.url(&format!("/v1/nodes/{uuid}"))).1
}

/// Restarts on the same working directory and waits until the node's work is finished.
fn restart_and_settle(server: Server, uuid: &str) -> (Server, Option<Value>) {
    let dir = server.stop();
    let server = Server::start_in(dir, FAST);
    let settled = wait_for(
        "the interrupted work to be finished",
        Duration::from_secs(30),
        || {
            let (status, body) = get_json(&server.url(&format!("/v1/nodes/{uuid}")));
            match status {
                404 => Some(None),
                200 if body["state"] == "ready" || body["state"] == "failed" => Some(Some(body)),
                _ => None,
            }
        },
    );
    (server, settled)
}

/// What the PODM holds matches Valence's records: every PODM node is a ready Valence node.
fn assert_consistent(rig: &Rig, server: &Server) {
    let (_, nodes) = get_json(&server.url("/v1/nodes"));
    let ready: Vec<&str> = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["state"] == "ready")
        .map(|n| n["resource_uri"].as_str().unwrap())
        .collect();
    let on_podm: Vec<String> = rig.sim.nodes().into_iter().map(|n| n.odata_id).collect();
    assert_eq!(
        on_podm.len(),
        ready.len(),
        "PODM nodes {on_podm:?} vs ready records {ready:?}"
    );
    for uri in &on_podm {
        assert!(
            ready.contains(&uri.as_str()),
            "{uri} is on the PODM but Valence does not know it"
        );
    }
}

#[test]
fn killed_while_the_podm_allocates_the_node_is_released_and_failed() {
    let rig = rig();
    rig.sim
        .update_behavior(|b| b.allocation_delay = Duration::from_secs(30))
        .unwrap();
    let server = Server::start(FAST);
    register(&server, &rig.sim);
    let uuid = compose(&server);
    wait_for(
        "the allocation to be recorded",
        Duration::from_secs(10),
        || {
            node(&server, &uuid)["resource_uri"]
                .is_string()
                .then_some(())
        },
    );
    let (server, settled) = restart_and_settle(server, &uuid);
    let settled = settled.unwrap();
    assert_eq!(settled["state"], "failed", "{settled}");
    assert!(
        settled["last_error"].as_str().unwrap().contains("released"),
        "{settled}"
    );
    assert!(rig.sim.nodes().is_empty());
    assert_consistent(&rig, &server);
}

#[test]
fn killed_while_assembling_the_node_ends_ready_once_the_podm_finishes() {
    let rig = rig();
    rig.sim
        .update_behavior(|b| b.assembly_delay = Duration::from_millis(1500))
        .unwrap();
    let server = Server::start(FAST);
    register(&server, &rig.sim);
    let uuid = compose(&server);
    wait_for("assembly to start", Duration::from_secs(10), || {
        (node(&server, &uuid)["state"] == "assembling").then_some(())
    });
    let dir = server.stop();
    // Let the PODM finish assembling while Valence is down.
    wait_for("the PODM to assemble", Duration::from_secs(10), || {
        rig.sim
            .nodes()
            .iter()
            .any(|n| n.state == "Assembled")
            .then_some(())
    });
    let server = Server::start_in(dir, FAST);
    let settled = wait_for("recovery", Duration::from_secs(30), || {
        let body = node(&server, &uuid);
        (body["state"] == "ready").then_some(body)
    });
    assert_eq!(
        settled["resource_uri"].as_str().unwrap(),
        rig.sim.nodes()[0].odata_id
    );
    assert_consistent(&rig, &server);
}

#[test]
fn killed_before_the_allocate_answer_any_tagged_node_is_released() {
    let rig = rig();
    // The PODM allocates but answers only after a long pause: Valence dies in between.
    rig.sim
        .update_behavior(|b| {
            b.answer_delay = Duration::from_secs(3);
            b.fault_path_prefix = Some("/redfish/v1/Nodes/Actions".into());
        })
        .unwrap();
    let server = Server::start(FAST);
    register(&server, &rig.sim);
    let uuid = compose(&server);
    wait_for(
        "the allocate request to reach the PODM",
        Duration::from_secs(10),
        || {
            (rig.sim.request_counts().iter().any(|(route, n)| {
                route.starts_with("POST") && route.contains("Allocate") && *n > 0
            }))
            .then_some(())
        },
    );
    let dir = server.stop();
    rig.sim
        .update_behavior(|b| b.answer_delay = Duration::ZERO)
        .unwrap();
    let server = Server::start_in(dir, FAST);
    let settled = wait_for("recovery", Duration::from_secs(30), || {
        let body = node(&server, &uuid);
        (body["state"] == "failed").then_some(body)
    });
    assert!(
        settled["last_error"]
            .as_str()
            .unwrap()
            .contains("before the allocation was recorded"),
        "{settled}"
    );
    assert_eq!(
        rig.sim.stats().allocations,
        1,
        "the PODM did allocate for the lost request"
    );
    assert!(
        rig.sim.nodes().is_empty(),
        "a node allocated for the lost request was left: {:?}",
        rig.sim.nodes()
    );
    assert_consistent(&rig, &server);
}

#[test]
fn killed_while_decomposing_the_node_is_released_and_forgotten() {
    let rig = rig();
    let server = Server::start(FAST);
    register(&server, &rig.sim);
    let uuid = compose(&server);
    wait_for("ready", Duration::from_secs(10), || {
        (node(&server, &uuid)["state"] == "ready").then_some(())
    });
    rig.sim
        .update_behavior(|b| {
            b.latency = Duration::from_secs(5);
            b.fault_path_prefix = Some("/redfish/v1/Nodes/".into());
        })
        .unwrap();
    let url = server.url(&format!("/v1/nodes/{uuid}"));
    let delete = std::thread::spawn(move || {
        agent()
            .delete(&url)
            .call()
            .map(|r| r.status().as_u16())
            .ok()
    });
    wait_for("the decompose to start", Duration::from_secs(10), || {
        (node(&server, &uuid)["state"] == "deleting").then_some(())
    });
    let dir = server.stop();
    let _ = delete.join();
    rig.sim
        .update_behavior(|b| b.latency = Duration::ZERO)
        .unwrap();
    let server = Server::start_in(dir, FAST);
    wait_for("the node to be forgotten", Duration::from_secs(30), || {
        (get_json(&server.url(&format!("/v1/nodes/{uuid}"))).0 == 404).then_some(())
    });
    assert!(rig.sim.nodes().is_empty());
    assert_consistent(&rig, &server);
    drop(rig.runtime);
}
