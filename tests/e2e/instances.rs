//! Several instances: two servers on one PostgreSQL database under concurrent composes, node
//! deletes and PODM deletes (with release) for a bounded time. Afterwards, and once the work
//! under way has settled, the database and the PODMs must agree on both sides: every PODM node
//! is a `ready` node recorded exactly once, every `ready` record exists on its PODM, no system
//! is used twice, no node is left in a transient state, and no request failed with a 5xx.
//!
//! Needs `VALENCE_TEST_DATABASE_URL` (an administrative PostgreSQL URL): the test creates its
//! own database and drops it afterwards.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use valence_podm_sim::{Behavior, SimConfig, SimPodm};

use crate::harness::{Server, agent, get_json};

/// How long the load runs.
const LOAD: Duration = Duration::from_secs(10);
/// Clients sending requests at once, spread over both servers.
const CLIENTS: usize = 6;

/// A PostgreSQL database made for one test, dropped (connections and all) when done.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// `None` (with one line saying so) when no PostgreSQL is configured.
    fn create() -> Option<TestDatabase> {
        let Some(admin_url) = std::env::var("VALENCE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            println!(
                "skipped: VALENCE_TEST_DATABASE_URL is not set (several-instances test did not run)"
            );
            return None;
        };
        let name = format!("valence_e2e_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("VALENCE_TEST_DATABASE_URL: cannot connect: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        Some(TestDatabase {
            admin_url,
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped = diesel::PgConnection::establish(&self.admin_url).and_then(|mut admin| {
            admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(err) = dropped {
            eprintln!("could not drop test database {}: {err}", self.name);
        }
    }
}

/// A small, fast random source for picking actions (the test needs variety, not quality).
struct Dice(u64);

impl Dice {
    fn new() -> Dice {
        Dice(uuid::Uuid::new_v4().as_u64_pair().0 | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What the clients saw: answers by request kind and status.
#[derive(Default)]
struct Tally {
    answers: Mutex<BTreeMap<String, u64>>,
    server_errors: Mutex<Vec<String>>,
}

impl Tally {
    fn record(&self, kind: &str, status: u16, body: &Value) {
        *self
            .answers
            .lock()
            .unwrap()
            .entry(format!("{kind} {status}"))
            .or_default() += 1;
        // A 502 names a PODM's own failure (the simulated PODMs fail some deletions); any
        // other 5xx is Valence's.
        let podm_fault = status == 502 && kind.contains("delete");
        if status >= 500 && !podm_fault {
            self.server_errors
                .lock()
                .unwrap()
                .push(format!("{kind} answered {status}: {body}"));
        }
    }
}

fn send(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let http = agent();
    let reply = match (method, body) {
        ("POST", Some(body)) => http.post(url).send_json(&body),
        ("DELETE", _) => http.delete(url).call(),
        ("GET", _) => http.get(url).call(),
        _ => unreachable!("unused method {method}"),
    };
    let mut reply = reply.unwrap_or_else(|err| panic!("{method} {url}: {err}"));
    let status = reply.status().as_u16();
    (status, reply.body_mut().read_json().unwrap_or(Value::Null))
}

fn list(server: &Server, path: &str) -> Vec<Value> {
    let (status, body) = get_json(&server.url(path));
    assert_eq!(status, 200, "{path}: {body}");
    body.as_array().unwrap().clone()
}

/// Registers `sim` unless a PODM with its URL is there (or being deleted); `true` if it is
/// registered and active now.
fn ensure_registered(server: &Server, name: &str, sim: &SimPodm, tally: &Tally) -> bool {
    let (status, body) = send(
        "POST",
        &server.url("/v1/pod_managers"),
        Some(json!({"name": name, "url": sim.base_url()})),
    );
    tally.record("register", status, &body);
    status == 201
}

/// One client: random composes, node deletes and PODM deletes with release, until `stop`.
fn client(servers: &[Server; 2], sims: &[(String, SimPodm)], tally: &Tally, stop: &AtomicBool) {
    let mut dice = Dice::new();
    let composed = AtomicU64::new(0);
    while !stop.load(Ordering::SeqCst) {
        let server = &servers[dice.below(2)];
        let roll = dice.below(100);
        if roll < 55 {
            let n = composed.fetch_add(1, Ordering::SeqCst);
            let (status, body) = send(
                "POST",
                &server.url("/v1/nodes"),
                Some(json!({"name": format!("load-{n}")})),
            );
            tally.record("compose", status, &body);
        } else if roll < 92 {
            let nodes: Vec<Value> = list(server, "/v1/nodes")
                .into_iter()
                .filter(|n| n["state"] == "ready" || n["state"] == "failed")
                .collect();
            if nodes.is_empty() {
                continue;
            }
            let uuid = nodes[dice.below(nodes.len())]["uuid"]
                .as_str()
                .unwrap()
                .to_owned();
            let (status, body) = send("DELETE", &server.url(&format!("/v1/nodes/{uuid}")), None);
            tally.record("node delete", status, &body);
        } else {
            let podms = list(server, "/v1/pod_managers");
            if podms.is_empty() {
                continue;
            }
            let podm = &podms[dice.below(podms.len())];
            let uuid = podm["uuid"].as_str().unwrap();
            let (status, body) = send(
                "DELETE",
                &server.url(&format!("/v1/pod_managers/{uuid}?release=true")),
                None,
            );
            tally.record("podm delete", status, &body);
            if status == 204 {
                let url = podm["url"].as_str().unwrap();
                let (name, sim) = sims
                    .iter()
                    .find(|(_, s)| url.starts_with(&s.base_url()))
                    .unwrap();
                ensure_registered(&servers[dice.below(2)], name, sim, tally);
            }
        }
    }
}

/// Waits until the instances have finished, by themselves, what the load left under way:
/// composes run to their end, node and PODM deletions that failed midway are retried until
/// done. Then registers again every PODM whose deletion went through.
fn settle(servers: &[Server; 2], sims: &[(String, SimPodm)], tally: &Tally) {
    let server = &servers[0];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut busy: Vec<Value> = list(server, "/v1/nodes")
            .into_iter()
            .filter(|n| n["state"] != "ready" && n["state"] != "failed")
            .collect();
        busy.extend(
            list(server, "/v1/pod_managers")
                .into_iter()
                .filter(|p| p["state"] == "deleting"),
        );
        if busy.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still under way 30 s after the load: {busy:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for (name, sim) in sims {
        let registered = list(server, "/v1/pod_managers")
            .iter()
            .any(|p| p["url"].as_str().unwrap().starts_with(&sim.base_url()));
        if !registered {
            assert!(ensure_registered(server, name, sim, tally));
        }
    }
}

/// Both sides agree: the PODMs' nodes and Valence's records, one to one.
fn assert_consistent(servers: &[Server; 2], sims: &[(String, SimPodm)]) {
    let nodes = list(&servers[0], "/v1/nodes");
    assert_eq!(
        nodes,
        list(&servers[1], "/v1/nodes"),
        "the two instances disagree"
    );
    let podms = list(&servers[0], "/v1/pod_managers");
    let mut records: HashMap<(String, String), usize> = HashMap::new();
    for node in &nodes {
        let state = node["state"].as_str().unwrap();
        assert!(
            state == "ready" || state == "failed",
            "node left {state}: {node}"
        );
        if state == "ready" {
            let key = (
                node["podm_id"].as_str().unwrap().to_owned(),
                node["resource_uri"].as_str().unwrap().to_owned(),
            );
            *records.entry(key).or_default() += 1;
        }
    }
    for ((podm, uri), count) in &records {
        assert_eq!(*count, 1, "{uri} on {podm} is recorded {count} times");
    }
    let mut seen = HashSet::new();
    for (name, sim) in sims {
        let podm = podms
            .iter()
            .find(|p| p["url"].as_str().unwrap().starts_with(&sim.base_url()))
            .unwrap_or_else(|| panic!("{name} is not registered"));
        let podm_uuid = podm["uuid"].as_str().unwrap();
        let on_sim = sim.nodes();
        let mut systems = HashSet::new();
        for node in &on_sim {
            assert!(
                systems.insert(node.system_id.clone()),
                "{name}: system {} used twice",
                node.system_id
            );
            assert!(
                records.contains_key(&(podm_uuid.to_owned(), node.odata_id.clone())),
                "{name}: node {} ({}) is on the PODM but not a ready record",
                node.odata_id,
                node.state
            );
            seen.insert((podm_uuid.to_owned(), node.odata_id.clone()));
        }
    }
    for key in records.keys() {
        assert!(
            seen.contains(key),
            "ready record {key:?} does not exist on its PODM"
        );
    }
}
#[test]
fn two_instances_under_concurrent_load_stay_consistent_with_the_podms() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sims: Vec<(String, SimPodm)> = (0..2)
        .map(|i| {
            let name = format!("podm-{i}");
            let sim = runtime
                .block_on(valence_podm_sim::start(SimConfig {
                    name: name.clone(),
                    systems: 8,
                    seed: i,
                    behavior: Behavior {
                        // Windows for races: a compose takes a little while on the PODM.
                        allocation_delay: Duration::from_millis(30),
                        assembly_delay: Duration::from_millis(60),
                        // Some deletions fail (as a PODM that cannot power a node off): node and
                        // PODM deletions are left midway and must be finished later.
                        delete_failure_rate: 0.2,
                        ..Behavior::default()
                    },
                    ..SimConfig::default()
                }))
                .unwrap();
            (name, sim)
        })
        .collect();
    let args = [
        "--database-url",
        database.url.as_str(),
        "--health-interval",
        "0.3",
        "--refresh-interval",
        "1",
        "--cache-ttl",
        "2",
        "--fanout-timeout",
        "3",
    ];
    // Both start at once, as a rolling deployment does: migrations must not trip each other.
    let servers: [Server; 2] = std::thread::scope(|scope| {
        let a = scope.spawn(|| Server::start(&args));
        let b = scope.spawn(|| Server::start(&args));
        [a.join().unwrap(), b.join().unwrap()]
    });
    let tally = Tally::default();
    for (name, sim) in &sims {
        assert!(ensure_registered(&servers[0], name, sim, &tally));
    }

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..CLIENTS {
            scope.spawn(|| client(&servers, &sims, &tally, &stop));
        }
        std::thread::sleep(LOAD);
        stop.store(true, Ordering::SeqCst);
    });
    let load = started.elapsed();
    // The PODMs recover; what failed on them is finished by the instances themselves.
    for (_, sim) in &sims {
        sim.update_behavior(|b| b.delete_failure_rate = 0.0)
            .unwrap();
    }
    settle(&servers, &sims, &tally);
    let settled = started.elapsed();

    let answers = tally.answers.lock().unwrap().clone();
    println!("load {load:?}, settled after {settled:?}: {answers:?}");
    assert!(
        tally.server_errors.lock().unwrap().is_empty(),
        "5xx answers under load: {:#?}",
        tally.server_errors.lock().unwrap()
    );
    let composes: u64 = answers
        .iter()
        .filter(|(k, _)| k.as_str() == "compose 202")
        .map(|(_, n)| n)
        .sum();
    assert!(composes > 0, "no compose was accepted: {answers:?}");
    assert_consistent(&servers, &sims);
    drop(servers);
    drop(database);
}
