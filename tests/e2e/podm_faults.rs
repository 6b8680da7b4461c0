//! Misbehaving PODMs against the built server: a PODM that is down, hangs, answers slowly,
//! answers 5xx storms, malformed or huge JSON, resets connections, or sits behind a network that
//! blackholes, cuts or drops connections (the chaos proxy). Every API request must answer
//! within its deadline with the healthy PODM's data and the failure named in
//! `Valence-Failed-Podms`; the breaker takes a failing PODM offline, out of scheduling, probes it
//! with backoff and brings it back by itself; and a storm of requests against a hanging PODM
//! leaves no connection or task behind.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use valence_podm_sim::{Behavior, SimConfig, SimPodm};

use crate::chaos::{ChaosProxy, Mode};
use crate::harness::{Server, agent, get_json, wait_for};

/// Deadline of one PODM's part of a request (`--fanout-timeout`).
const FANOUT: Duration = Duration::from_secs(1);
/// Budget of one call to a PODM (`--podm-timeout`).
const PODM_CALL: Duration = Duration::from_secs(3);
/// Slack for scheduling on a loaded 2-core machine. The bounds below separate "answered at its
/// deadline" from "waited for the PODM": an aggregated read must end before one PODM call could
/// have (`FANOUT + SLACK < PODM_CALL`), so only the fan-out deadline can have ended it.
const SLACK: Duration = Duration::from_millis(1500);

/// One answer, with how long it took.
struct Timed {
    status: u16,
    failed_podms: Option<String>,
    body: Value,
    elapsed: Duration,
}

fn timed(method: &str, url: &str, body: Option<Value>) -> Timed {
    let http = agent();
    let start = Instant::now();
    let mut reply = match (method, body) {
        ("GET", _) => http.get(url).call(),
        ("POST", Some(body)) => http.post(url).send_json(&body),
        ("POST", None) => http.post(url).send_empty(),
        ("DELETE", _) => http.delete(url).call(),
        _ => unreachable!("unused method {method}"),
    }
    .unwrap_or_else(|err| panic!("{method} {url}: {err}"));
    let status = reply.status().as_u16();
    let failed_podms = reply
        .headers()
        .get("valence-failed-podms")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = reply.body_mut().read_json().unwrap_or(Value::Null);
    Timed {
        status,
        failed_podms,
        body,
        elapsed: start.elapsed(),
    }
}

fn register(server: &Server, name: &str, url: &str) -> String {
    let reply = timed(
        "POST",
        &server.url("/v1/pod_managers"),
        Some(json!({"name": name, "url": url})),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["status"], "Online", "{}", reply.body);
    reply.body["uuid"].as_str().unwrap().to_owned()
}

fn compose_on(server: &Server, podm: &str) -> String {
    let reply = timed(
        "POST",
        &server.url("/v1/nodes"),
        Some(json!({"name": "probe-node", "podm_id": podm})),
    );
    assert_eq!(reply.status, 202, "{}", reply.body);
    let uuid = reply.body["uuid"].as_str().unwrap().to_owned();
    wait_for("the node to be ready", Duration::from_secs(15), || {
        (get_json(&server.url(&format!("/v1/nodes/{uuid}"))).1["state"] == "ready").then_some(())
    });
    uuid
}

fn sim(runtime: &tokio::runtime::Runtime, name: &str, systems: usize) -> SimPodm {
    runtime
        .block_on(valence_podm_sim::start(SimConfig {
            name: name.into(),
            systems,
            ..SimConfig::default()
        }))
        .unwrap()
}

/// A healthy PODM, and a faulty one reached through the chaos proxy, both registered, with a
/// node on the faulty one.
struct Rig {
    /// Each PODM on its own runtime: a PODM busy rendering huge bodies must not slow the other.
    runtime: tokio::runtime::Runtime,
    _healthy_runtime: tokio::runtime::Runtime,
    healthy: SimPodm,
    faulty: SimPodm,
    proxy: ChaosProxy,
    server: Server,
    healthy_uuid: String,
    faulty_uuid: String,
    node_on_faulty: String,
}

fn rig(server: Server) -> Rig {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let healthy_runtime = tokio::runtime::Runtime::new().unwrap();
    let healthy = sim(&healthy_runtime, "healthy", 2);
    let faulty = sim(&runtime, "faulty", 2);
    let proxy = ChaosProxy::start(&runtime, faulty.addr());
    let healthy_uuid = register(&server, "healthy", &healthy.base_url());
    let faulty_uuid = register(&server, "faulty", &proxy.base_url());
    let node_on_faulty = compose_on(&server, &faulty_uuid);
    Rig {
        runtime,
        _healthy_runtime: healthy_runtime,
        healthy,
        faulty,
        proxy,
        server,
        healthy_uuid,
        faulty_uuid,
        node_on_faulty,
    }
}

/// The checks of one fault scenario, all requests at once (each waits up to its deadline).
fn assert_answers_in_time(rig: &Rig, scenario: &str) {
    let aggregated = FANOUT + SLACK;
    let single = PODM_CALL + SLACK;
    let faulty = rig.faulty_uuid.clone();
    let node = rig.node_on_faulty.clone();
    let requests: Vec<(&str, String, Option<Value>, Duration)> = vec![
        ("GET", "/v1/systems?refresh=true".into(), None, aggregated),
        ("GET", "/v1/systems".into(), None, aggregated),
        (
            "GET",
            "/v1/pod_managers?refresh=true".into(),
            None,
            aggregated,
        ),
        (
            "GET",
            format!("/v1/pod_managers/{faulty}?refresh=true"),
            None,
            aggregated,
        ),
        ("GET", format!("/v1/systems/{faulty}:1"), None, aggregated),
        ("GET", format!("/v1/nodes/{node}"), None, aggregated),
        (
            "POST",
            "/v1/nodes?dry_run=true".into(),
            Some(json!({"name": "dry"})),
            aggregated,
        ),
        ("POST", "/v1/devices/sync".into(), None, aggregated),
        (
            "POST",
            format!("/v1/nodes/{node}/action"),
            Some(json!({"Reset": {"Type": "ForceRestart"}})),
            single,
        ),
        (
            "POST",
            "/v1/nodes/manage".into(),
            Some(json!({"node_index": "1", "podm_id": faulty})),
            single,
        ),
    ];
    let replies: Vec<(String, Duration, Timed)> = std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .into_iter()
            .map(|(method, path, body, bound)| {
                let url = rig.server.url(&path);
                scope.spawn(move || (format!("{method} {path}"), bound, timed(method, &url, body)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (what, bound, reply) in &replies {
        assert!(
            reply.elapsed < *bound,
            "{scenario}: {what} took {:?}, more than its deadline allows ({bound:?})",
            reply.elapsed
        );
        assert!(
            reply.status != 500,
            "{scenario}: {what} answered 500: {}",
            reply.body
        );
    }
    let get = |wanted: &str| {
        &replies
            .iter()
            .find(|(what, _, _)| what == wanted)
            .unwrap_or_else(|| panic!("no request {wanted}"))
            .2
    };

    // Aggregated reads: the healthy PODM's data, the faulty one named.
    let systems = get("GET /v1/systems?refresh=true");
    assert_eq!(systems.status, 200, "{scenario}: {}", systems.body);
    let healthy_systems = systems
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["podm_id"] == rig.healthy_uuid.as_str())
        .count();
    assert_eq!(
        healthy_systems,
        rig.healthy.inventory().systems.len(),
        "{scenario}: the healthy PODM's systems are missing: {} (failed: {:?})",
        systems.body,
        systems.failed_podms
    );
    let named = systems.failed_podms.as_deref().unwrap_or_default();
    assert!(
        named.contains(&rig.faulty_uuid),
        "{scenario}: Valence-Failed-Podms does not name the faulty PODM: {named:?}"
    );
    assert!(
        !named.contains(&rig.healthy_uuid),
        "{scenario}: the healthy PODM is named as failed: {named:?}"
    );
    assert_eq!(get("GET /v1/systems").status, 200, "{scenario}");

    let listed = get("GET /v1/pod_managers?refresh=true");
    assert_eq!(listed.status, 200, "{scenario}: {}", listed.body);
    assert_eq!(listed.body.as_array().unwrap().len(), 2, "{scenario}");
    assert!(
        listed
            .failed_podms
            .as_deref()
            .is_some_and(|h| h.contains(&rig.faulty_uuid)),
        "{scenario}: {:?}",
        listed.failed_podms
    );
    let shown = get(&format!(
        "GET /v1/pod_managers/{}?refresh=true",
        rig.faulty_uuid
    ));
    assert_eq!(shown.status, 200, "{scenario}: {}", shown.body);
    assert!(shown.failed_podms.is_some(), "{scenario}");

    // A node on the faulty PODM: the record, the PODM's failure said in `podm_error`.
    let detail = get(&format!("GET /v1/nodes/{}", rig.node_on_faulty));
    assert_eq!(detail.status, 200, "{scenario}: {}", detail.body);
    assert_eq!(detail.body["state"], "ready", "{scenario}");
    assert!(
        detail.body["podm_error"].is_string(),
        "{scenario}: the node detail hides the PODM failure: {}",
        detail.body
    );

    // A single-PODM call fails as the PODM's fault (5xx naming it), not Valence's.
    let action = get(&format!("POST /v1/nodes/{}/action", rig.node_on_faulty));
    assert!(
        [502, 504].contains(&action.status),
        "{scenario}: reset on a failing PODM answered {}: {}",
        action.status,
        action.body
    );
    let dry_run = get("POST /v1/nodes?dry_run=true");
    assert_eq!(dry_run.status, 200, "{scenario}: {}", dry_run.body);
}

/// Fault settings of the simulated PODM, one scenario each.
fn sim_faults() -> Vec<(&'static str, Behavior)> {
    let base = Behavior::default;
    vec![
        (
            "hang",
            Behavior {
                hang_rate: 1.0,
                ..base()
            },
        ),
        (
            "slow answers",
            Behavior {
                latency: FANOUT + PODM_CALL,
                ..base()
            },
        ),
        (
            // Each call within its budget, but a request made of several calls is not.
            "slow answers within each call's budget",
            Behavior {
                latency: PODM_CALL * 5 / 6,
                ..base()
            },
        ),
        (
            "500 storm",
            Behavior {
                error_rate: 1.0,
                ..base()
            },
        ),
        (
            "503 storm with Retry-After",
            Behavior {
                unavailable_rate: 1.0,
                retry_after: Duration::from_secs(1),
                ..base()
            },
        ),
        (
            "malformed JSON",
            Behavior {
                malformed_json_rate: 1.0,
                ..base()
            },
        ),
        (
            "huge bodies",
            Behavior {
                // Above the client's 16 MiB cap on a response body.
                huge_response_bytes: 17 << 20,
                ..base()
            },
        ),
        (
            "connection resets",
            Behavior {
                reset_rate: 1.0,
                ..base()
            },
        ),
    ]
}

const FAULT_SERVER_ARGS: &[&str] = &[
    "--fanout-timeout",
    "1",
    "--podm-timeout",
    "3",
    // Background work out of the way: the requests themselves meet the faults.
    "--health-interval",
    "60",
    "--refresh-interval",
    "60",
];

#[test]
fn a_misbehaving_podm_never_holds_a_request_past_its_deadline() {
    let rig = rig(Server::start(FAULT_SERVER_ARGS));
    for (scenario, behavior) in sim_faults() {
        rig.faulty.set_behavior(behavior).unwrap();
        assert_answers_in_time(&rig, scenario);
        rig.faulty.set_behavior(Behavior::default()).unwrap();
    }
    rig.runtime.block_on(rig.faulty.stop());
    assert_answers_in_time(&rig, "PODM down");
    rig.runtime.block_on(rig.faulty.start()).unwrap();
}

#[test]
fn a_broken_network_path_never_holds_a_request_past_its_deadline() {
    let rig = rig(Server::start(FAULT_SERVER_ARGS));
    let scenarios = [
        ("blackhole", Mode::Blackhole),
        ("cut connections", Mode::Cut),
        ("dropped connections", Mode::Drop),
        ("slow network", Mode::Delay(FANOUT + PODM_CALL)),
    ];
    for (scenario, mode) in scenarios {
        rig.proxy.set_mode(mode);
        // Dropping only refuses new connections: cut the pooled ones first.
        if mode == Mode::Drop {
            rig.proxy.set_mode(Mode::Cut);
            rig.proxy.set_mode(Mode::Drop);
        }
        assert_answers_in_time(&rig, scenario);
        rig.proxy.set_mode(Mode::Pass);
    }
    // Back to normal: the faulty PODM answers in full again.
    wait_for("the PODM to answer again", Duration::from_secs(10), || {
        let reply = timed("GET", &rig.server.url("/v1/systems?refresh=true"), None);
        (reply.status == 200 && reply.failed_podms.is_none()).then_some(())
    });
}

/// Fast health rounds and a short breaker backoff, so a whole outage and recovery take seconds.
const BREAKER_CONFIG: &str = r#"
[podm]
fanout_timeout = "1s"
request_timeout = "1s"
[inventory]
cache_ttl = "1s"
refresh_interval = "300ms"
[health]
interval = "100ms"
failures_to_offline = 3
base_backoff = "400ms"
max_backoff = "1600ms"
"#;

fn podm_status(server: &Server, uuid: &str) -> String {
    let (status, body) = get_json(&server.url(&format!("/v1/pod_managers/{uuid}")));
    assert_eq!(status, 200, "{body}");
    body["status"].as_str().unwrap().to_owned()
}

/// The PODMs a compose would be tried on, in order (a dry run).
fn candidates(server: &Server) -> Vec<String> {
    let plan = timed(
        "POST",
        &server.url("/v1/nodes?dry_run=true"),
        Some(json!({"name": "where"})),
    );
    assert_eq!(plan.status, 200, "{}", plan.body);
    plan.body["candidates"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["podm_uuid"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Takes the faulty PODM down with `break_it`, checks the breaker's whole cycle, and heals it.
fn assert_breaker_cycle(rig: &Rig, scenario: &str, break_it: &dyn Fn(), heal: &dyn Fn()) {
    let (server, faulty) = (&rig.server, rig.faulty_uuid.as_str());
    assert_eq!(podm_status(server, faulty), "Online", "{scenario}");
    break_it();
    wait_for(
        &format!("{scenario}: the PODM to go Offline"),
        Duration::from_secs(10),
        || (podm_status(server, faulty) == "Offline").then_some(()),
    );
    // Offline: never scheduled, and calls are refused at once instead of waiting for it.
    let ranked = candidates(server);
    assert_eq!(ranked, vec![rig.healthy_uuid.clone()], "{scenario}");
    let composed = timed(
        "POST",
        &server.url("/v1/nodes"),
        Some(json!({"name": "during-outage"})),
    );
    assert_eq!(composed.status, 202, "{scenario}: {}", composed.body);
    assert_eq!(
        composed.body["podm_id"],
        rig.healthy_uuid.as_str(),
        "{scenario}"
    );
    wait_for(
        &format!("{scenario}: the cached inventory to expire and the breaker to answer"),
        Duration::from_secs(10),
        || {
            let reply = timed("GET", &server.url("/v1/systems"), None);
            reply
                .failed_podms
                .filter(|h| h.contains(faulty) && h.contains("CircuitOpen"))
        },
    );

    // Probed with backoff: over two seconds at most a few probes reach the PODM, where
    // probing every health round (100 ms) would make twenty.
    let before = rig.proxy.accepted();
    let probes_before = rig.faulty.request_count("GET", "/redfish/v1");
    std::thread::sleep(Duration::from_secs(2));
    let connections = rig.proxy.accepted() - before;
    let probes = rig.faulty.request_count("GET", "/redfish/v1") - probes_before;
    assert!(
        connections + probes <= 12,
        "{scenario}: {connections} connections and {probes} probes in 2 s: no backoff"
    );

    heal();
    wait_for(
        &format!("{scenario}: the PODM to come back Online by itself"),
        Duration::from_secs(10),
        || (podm_status(server, faulty) == "Online").then_some(()),
    );
    wait_for(
        &format!("{scenario}: the PODM to be scheduled again"),
        Duration::from_secs(10),
        || candidates(server).contains(&rig.faulty_uuid).then_some(()),
    );
}

#[test]
fn a_failing_podm_goes_offline_is_not_scheduled_and_comes_back_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("valence.toml"), BREAKER_CONFIG).unwrap();
    let rig = rig(Server::start_in(dir, &["--config", "valence.toml"]));

    assert_breaker_cycle(
        &rig,
        "network cut",
        &|| rig.proxy.set_mode(Mode::Cut),
        &|| rig.proxy.set_mode(Mode::Pass),
    );
    assert_breaker_cycle(
        &rig,
        "500 storm",
        &|| rig.faulty.update_behavior(|b| b.error_rate = 1.0).unwrap(),
        &|| rig.faulty.set_behavior(Behavior::default()).unwrap(),
    );
}

/// What the server holds open: descriptors (sockets included) from `/proc`, and the async tasks
/// it reports alive. A request that outlives its deadline keeps a socket to the PODM and a task,
/// so a leak shows in all three; the proxy sees the same connections from the PODM's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    fds: usize,
    sockets: usize,
    tasks: u64,
}

fn held(server: &Server) -> Held {
    let fd_dir = format!("/proc/{}/fd", server.pid());
    let entries: Vec<_> = std::fs::read_dir(&fd_dir).unwrap().flatten().collect();
    let sockets = entries
        .iter()
        .filter(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        })
        .count();
    let (status, stats) = get_json(&server.url("/debug/runtime"));
    assert_eq!(status, 200, "{stats}");
    Held {
        fds: entries.len(),
        sockets,
        // The request asking for the figure is itself one task.
        tasks: stats["alive_tasks"].as_u64().unwrap().saturating_sub(1),
    }
}

#[test]
fn a_thousand_requests_against_a_hanging_podm_leave_no_connection_or_task_behind() {
    const REQUESTS: usize = 1000;
    const CLIENTS: usize = 100;
    // The PODM call budget is far above the fan-out deadline: only the deadline can end the
    // calls within the test, so a call that is not cancelled at its deadline would stay.
    let server = Server::start(&[
        "--fanout-timeout",
        "0.5",
        "--podm-timeout",
        "60",
        "--health-interval",
        "60",
        "--refresh-interval",
        "60",
    ]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let podm = sim(&runtime, "hanging", 2);
    let proxy = ChaosProxy::start(&runtime, podm.addr());
    let uuid = register(&server, "hanging", &proxy.base_url());
    let node = compose_on(&server, &uuid);
    let paths = [
        "/v1/systems?refresh=true".to_owned(),
        format!("/v1/pod_managers/{uuid}?refresh=true"),
        "/v1/pod_managers?refresh=true".to_owned(),
        format!("/v1/nodes/{node}"),
    ];
    let baseline = held(&server);
    let pooled = proxy.open_connections();

    proxy.set_mode(Mode::Blackhole);
    let peak = std::sync::Mutex::new((0usize, 0usize));
    let done = std::sync::atomic::AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let mut p = peak.lock().unwrap();
                p.0 = p.0.max(proxy.open_connections());
                p.1 = p.1.max(held(&server).fds);
                drop(p);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (server, paths) = (&server, &paths);
                scope.spawn(move || {
                    for n in 0..REQUESTS / CLIENTS {
                        let path = &paths[(client + n) % paths.len()];
                        let reply = timed("GET", &server.url(path), None);
                        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
                        assert!(
                            reply.elapsed < Duration::from_secs(5),
                            "{path} took {:?} against a hanging PODM",
                            reply.elapsed
                        );
                        assert!(
                            reply.failed_podms.is_some() || reply.body["podm_error"].is_string(),
                            "{path}: the hanging PODM is not named: {}",
                            reply.body
                        );
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let storm = started.elapsed();

    let settled = wait_for(
        "connections and tasks to return to their baseline",
        Duration::from_secs(10),
        || {
            let now = held(&server);
            (now.fds <= baseline.fds + 4
                && now.sockets <= baseline.sockets + 4
                && now.tasks <= baseline.tasks + 4
                && proxy.open_connections() == 0)
                .then_some(now)
        },
    );
    let (peak_proxy, peak_fds) = *peak.lock().unwrap();
    // Figures for the record: what the storm held at its peak against what stays.
    println!(
        "{REQUESTS} requests in {storm:?}; baseline {baseline:?}, {pooled} pooled PODM connections; \
         peak {peak_fds} fds, {peak_proxy} connections at the PODM; after {settled:?}"
    );
    proxy.set_mode(Mode::Pass);
}
