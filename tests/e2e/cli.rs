//! The `valence` CLI client as a subprocess against the built server and simulated PODMs:
//! tables, `--json`, exit codes, compose waiting, safe PODM delete, and no password in any output.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use valence_podm_sim::{Credentials, SimConfig, SimPodm};

use crate::harness::{Server, agent, valence_bin};

/// The PODMs' password: it must never show up in anything the CLI prints.
const PASSWORD: &str = "pw-Zq7x-never-printed";

/// One finished `valence` invocation.
struct Run {
    args: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "{}: stdout is not JSON ({err}):\n{}",
                self.args, self.stdout
            )
        })
    }
}

/// Runs the CLI against one server and keeps everything it printed.
struct Cli {
    url: String,
    transcript: RefCell<String>,
}

impl Cli {
    fn new(server: &Server) -> Self {
        Self {
            url: server.base.clone(),
            transcript: RefCell::default(),
        }
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut child = Command::new(valence_bin())
            .args(args)
            .args(["--url", &self.url])
            .env_remove("VALENCE_URL")
            // Debug logs must not reveal the password either.
            .env("RUST_LOG", "debug")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        let run = Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        let mut transcript = self.transcript.borrow_mut();
        transcript.push_str(&run.stdout);
        transcript.push_str(&run.stderr);
        run
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// Runs and expects exit code `code`.
    fn expect(&self, code: i32, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "valence {}\nstdout:\n{}\nstderr:\n{}",
            run.args, run.stdout, run.stderr
        );
        run
    }

    fn ok(&self, args: &[&str]) -> Run {
        self.expect(0, args)
    }

    /// Registers `podm` as `name`, the password coming through a pipe.
    fn add_podm(&self, name: &str, podm: &SimPodm) -> String {
        let run = self.run_with_stdin(
            &[
                "podm",
                "add",
                name,
                &podm.base_url(),
                "--username",
                "admin",
                "--password-stdin",
                "--json",
            ],
            Some(&format!("{PASSWORD}\n")),
        );
        assert_eq!(run.code, 0, "podm add {name}: {}", run.stderr);
        run.json()["uuid"].as_str().unwrap().to_owned()
    }

    fn assert_password_never_printed(&self) {
        let transcript = self.transcript.borrow();
        assert!(!transcript.is_empty());
        assert!(
            !transcript.contains(PASSWORD),
            "the password appeared in the CLI's output"
        );
    }
}

/// Simulated PODMs on a runtime of their own, which serves them while the test blocks on
/// subprocesses.
struct Sims {
    runtime: tokio::runtime::Runtime,
    pods: Vec<SimPodm>,
}

impl Sims {
    fn start(count: usize, change: impl Fn(&mut SimConfig)) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let pods = (0..count)
            .map(|n| {
                let mut config = SimConfig {
                    name: format!("sim-{n}"),
                    seed: 7 + n as u64,
                    systems: 8,
                    credentials: Some(Credentials::new("admin", PASSWORD)),
                    ..SimConfig::default()
                };
                change(&mut config);
                runtime.block_on(valence_podm_sim::start(config)).unwrap()
            })
            .collect();
        Self { runtime, pods }
    }
}

/// Polls `check` until it holds or `within` passes.
fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn podms_are_added_listed_shown_cordoned_updated_and_deleted() {
    let server = Server::start(&[]);
    let sims = Sims::start(2, |_| {});
    let cli = Cli::new(&server);

    let a = cli.run_with_stdin(
        &[
            "podm",
            "add",
            "rack-a",
            &sims.pods[0].base_url(),
            "--username",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(a.stdout.contains("rack-a") && a.stdout.contains("basic as admin"));

    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let b = cli
        .ok(&[
            "podm",
            "add",
            "rack-b",
            &sims.pods[1].base_url(),
            "--username",
            "admin",
            "--password-file",
            password_file.to_str().unwrap(),
            "--auth",
            "session",
            "--verify",
            "--json",
        ])
        .json();
    assert_eq!(b["name"], "rack-b");
    assert_eq!(b["authentication"][0]["type"], "session");
    assert_eq!(b["authentication"][0]["auth_items"]["password"], "********");
    let b_uuid = b["uuid"].as_str().unwrap().to_owned();

    // The discouraged --password works, and a conflict is an API error: exit 1 with the body.
    let dup = cli.expect(
        1,
        &[
            "podm",
            "add",
            "rack-dup",
            &sims.pods[0].base_url(),
            "--username",
            "admin",
            "--password",
            PASSWORD,
        ],
    );
    assert!(dup.stderr.contains("409 Conflict"), "{}", dup.stderr);
    assert!(dup.stderr.contains("request id: req-"), "{}", dup.stderr);
    assert!(dup.stdout.is_empty());

    let list = cli.ok(&["podm", "list"]);
    for needle in ["rack-a", "rack-b", "Online", "8/8"] {
        assert!(list.stdout.contains(needle), "{needle}:\n{}", list.stdout);
    }
    let listed = cli.ok(&["podm", "list", "--json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(
        cli.ok(&["podm", "list", "--limit", "1", "--json"]).json()[0]["uuid"],
        listed[0]["uuid"]
    );

    // Names work wherever a uuid is expected.
    let shown = cli.ok(&["podm", "show", "rack-b", "--json"]).json();
    assert_eq!(shown["uuid"], b_uuid.as_str());
    assert_eq!(shown["usage"]["systems_total"], 8);
    assert!(cli.ok(&["podm", "show", &b_uuid]).stdout.contains("rack-b"));
    let missing = cli.expect(1, &["podm", "show", "no-such-rack"]);
    assert!(
        missing.stderr.contains("no-such-rack"),
        "{}",
        missing.stderr
    );

    let cordoned = cli.ok(&["podm", "cordon", "rack-a"]);
    assert!(cordoned.stdout.contains("cordoned"), "{}", cordoned.stdout);
    let only_cordoned = cli
        .ok(&["podm", "list", "--state", "cordoned", "--json"])
        .json();
    assert_eq!(only_cordoned.as_array().unwrap().len(), 1);
    assert_eq!(only_cordoned[0]["name"], "rack-a");
    cli.ok(&["podm", "uncordon", "rack-a"]);
    assert_eq!(
        cli.ok(&["podm", "show", "rack-a", "--json"]).json()["state"],
        "active"
    );

    let updated = cli
        .ok(&[
            "podm",
            "update",
            "rack-b",
            "--description",
            "row 3",
            "--json",
        ])
        .json();
    assert_eq!(updated["description"], "row 3");
    cli.expect(2, &["podm", "update", "rack-b"]);

    let deleted = cli.ok(&["podm", "delete", "rack-b"]);
    assert!(deleted.stdout.contains("deleted"), "{}", deleted.stdout);
    let left = cli.ok(&["podm", "list", "--json"]).json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["name"], "rack-a");

    cli.assert_password_never_printed();
    drop(sims);
}

#[test]
fn compose_waits_for_ready_and_nodes_are_listed_shown_reset_and_deleted() {
    let server = Server::start(&[]);
    let sims = Sims::start(1, |config| {
        config.behavior.allocation_delay = Duration::from_millis(300);
        config.behavior.assembly_delay = Duration::from_millis(300);
    });
    let cli = Cli::new(&server);
    let podm = cli.add_podm("rack-a", &sims.pods[0]);

    // Not a terminal: plain progress lines on stderr, the ready node on stdout.
    let composed = cli.ok(&[
        "node",
        "compose",
        "web-1",
        "--cores",
        "4",
        "--memory-mib",
        "4096",
        "--timeout",
        "120",
    ]);
    assert!(
        composed.stderr.contains("[1/3] node web-1") && composed.stderr.contains("allocating"),
        "{}",
        composed.stderr
    );
    assert!(
        composed.stderr.contains("is ready after"),
        "{}",
        composed.stderr
    );
    assert!(composed.stdout.contains("ready"), "{}", composed.stdout);

    let waited = cli
        .ok(&[
            "node",
            "compose",
            "web-2",
            "--cores",
            "4",
            "--memory-mib",
            "4096",
            "--podm",
            "rack-a",
            "--json",
        ])
        .json();
    assert_eq!(waited["state"], "ready");
    assert_eq!(waited["podm_id"], podm.as_str());
    assert!(waited["system"]["id"].is_string(), "{waited}");

    let started = cli
        .ok(&[
            "node",
            "compose",
            "web-3",
            "--cores",
            "4",
            "--memory-mib",
            "4096",
            "--no-wait",
            "--idempotency-key",
            "key-web-3",
            "--json",
        ])
        .json();
    assert_eq!(started["state"], "allocating");
    let again = cli
        .ok(&[
            "node",
            "compose",
            "web-3",
            "--cores",
            "4",
            "--memory-mib",
            "4096",
            "--no-wait",
            "--idempotency-key",
            "key-web-3",
            "--json",
        ])
        .json();
    assert_eq!(again["uuid"], started["uuid"], "same key, same node");
    let web3 = started["uuid"].as_str().unwrap().to_owned();

    let nodes = cli.ok(&["node", "list", "--json"]).json();
    assert_eq!(nodes.as_array().unwrap().len(), 3);
    let table = cli.ok(&["node", "list", "--podm", "rack-a"]).stdout;
    for needle in ["web-1", "web-2", "web-3", "rack-a"] {
        assert!(table.contains(needle), "{needle}:\n{table}");
    }
    assert!(
        eventually(Duration::from_secs(60), || {
            cli.ok(&["node", "show", &web3, "--json"]).json()["state"] == "ready"
        }),
        "web-3 never became ready"
    );
    let ready = cli
        .ok(&["node", "list", "--state", "ready", "--json"])
        .json();
    assert_eq!(ready.as_array().unwrap().len(), 3);
    let page = cli.ok(&["node", "list", "--limit", "2", "--json"]).json();
    assert_eq!(page.as_array().unwrap().len(), 2);

    let shown = cli.ok(&["node", "show", "web-1", "--json"]).json();
    assert_eq!(shown["name"], "web-1");
    assert!(shown["power_state"].is_string(), "{shown}");
    assert!(
        cli.ok(&["node", "show", "web-1"])
            .stdout
            .contains("composed state")
    );

    let reset = cli.ok(&["node", "reset", "web-1", "--type", "ForceRestart"]);
    assert!(reset.stdout.contains("reset"), "{}", reset.stdout);
    let refused = cli.expect(1, &["node", "reset", "web-1", "--type", "Bogus"]);
    assert!(refused.stderr.contains("Reset.Type"), "{}", refused.stderr);
    cli.ok(&["node", "boot", "web-1", "--target", "Pxe"]);

    // A node composed outside Valence is adopted by its PODM id.
    let index = allocate_outside_valence(&sims.pods[0]);
    let adopted = cli
        .ok(&["node", "manage", &index, "--podm", "rack-a", "--json"])
        .json();
    assert_eq!(adopted["managed_by"], "user");
    assert_eq!(adopted["index"], index.as_str());
    let by_user = cli
        .ok(&["node", "list", "--managed-by", "user", "--json"])
        .json();
    assert_eq!(by_user.as_array().unwrap().len(), 1);

    let web1 = shown["uuid"].as_str().unwrap().to_owned();
    cli.ok(&["node", "delete", "web-1"]);
    let gone = cli.expect(1, &["node", "show", &web1]);
    assert!(gone.stderr.contains("404"), "{}", gone.stderr);
    assert_eq!(
        sims.pods[0].nodes().len(),
        3,
        "web-1 was decomposed on the PODM"
    );

    cli.assert_password_never_printed();
}

/// Composes a node on the simulator directly (as an operator would without Valence) and
/// returns its id.
fn allocate_outside_valence(podm: &SimPodm) -> String {
    let base = podm.base_url();
    let login = agent()
        .post(&format!("{base}/redfish/v1/SessionService/Sessions"))
        .send_json(serde_json::json!({"UserName": "admin", "Password": PASSWORD}))
        .unwrap();
    assert_eq!(login.status().as_u16(), 201);
    let token = login.headers()["x-auth-token"].to_str().unwrap().to_owned();
    let allocated = agent()
        .post(&format!("{base}/redfish/v1/Nodes/Actions/Allocate"))
        .header("X-Auth-Token", &token)
        .send_json(serde_json::json!({"Name": "by-hand"}))
        .unwrap();
    assert_eq!(allocated.status().as_u16(), 201);
    let location = allocated.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_owned()
}

#[test]
fn a_failed_compose_prints_the_last_error_and_exits_1() {
    let server = Server::start(&[]);
    let sims = Sims::start(1, |config| {
        config.behavior.assembly_failure_rate = 1.0;
    });
    let cli = Cli::new(&server);
    cli.add_podm("rack-a", &sims.pods[0]);
    let failed = cli.expect(
        1,
        &[
            "node",
            "compose",
            "doomed",
            "--cores",
            "4",
            "--memory-mib",
            "4096",
            "--timeout",
            "120",
        ],
    );
    assert!(
        failed.stderr.contains("error: node doomed") && failed.stderr.contains("failed"),
        "{}",
        failed.stderr
    );
    assert!(failed.stdout.is_empty());
    cli.assert_password_never_printed();
}

#[test]
fn compose_stops_waiting_at_the_timeout_and_the_node_goes_on() {
    let server = Server::start(&[]);
    let sims = Sims::start(1, |config| {
        config.behavior.assembly_delay = Duration::from_secs(60);
    });
    let cli = Cli::new(&server);
    cli.add_podm("rack-a", &sims.pods[0]);
    let started = Instant::now();
    let waited = cli.expect(
        1,
        &[
            "node",
            "compose",
            "slow-1",
            "--cores",
            "4",
            "--memory-mib",
            "4096",
            "--timeout",
            "1",
        ],
    );
    // Liveness only: the 60 s assembly is not waited for.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        waited.stderr.contains("is still") && waited.stderr.contains("valence node show"),
        "{}",
        waited.stderr
    );
    let node = cli.ok(&["node", "show", "slow-1", "--json"]).json();
    assert!(
        ["allocating", "assembling"].contains(&node["state"].as_str().unwrap()),
        "{node}"
    );
}

#[test]
fn dry_run_explains_placement_and_podm_delete_is_safe() {
    let server = Server::start(&[]);
    let sims = Sims::start(2, |_| {});
    let cli = Cli::new(&server);
    cli.add_podm("rack-a", &sims.pods[0]);
    cli.add_podm("rack-b", &sims.pods[1]);
    cli.ok(&["podm", "cordon", "rack-b"]);

    let plan = cli.ok(&[
        "node",
        "compose",
        "web-1",
        "--cores",
        "4",
        "--memory-mib",
        "4096",
        "--dry-run",
    ]);
    for needle in ["RANK", "rack-a", "REJECTED PODM", "rack-b", "cordoned"] {
        assert!(plan.stdout.contains(needle), "{needle}:\n{}", plan.stdout);
    }
    let plan = cli
        .ok(&[
            "node",
            "compose",
            "web-1",
            "--cores",
            "4",
            "--memory-mib",
            "4096",
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(plan["outcome"], "ranked");
    assert_eq!(plan["candidates"][0]["podm_name"], "rack-a");
    let impossible = cli.ok(&[
        "node",
        "compose",
        "huge",
        "--cores",
        "100000",
        "--memory-mib",
        "4096",
        "--dry-run",
    ]);
    assert!(
        impossible
            .stdout
            .contains("no pod manager can compose this node")
            && impossible.stdout.contains("capacity"),
        "{}",
        impossible.stdout
    );
    assert_eq!(
        cli.ok(&["node", "list", "--json"]).json(),
        Value::Array(vec![])
    );

    cli.ok(&[
        "node",
        "compose",
        "web-1",
        "--cores",
        "4",
        "--memory-mib",
        "4096",
        "--podm",
        "rack-a",
    ]);

    let refused = cli.expect(1, &["podm", "delete", "rack-a"]);
    for needle in ["PodmHasNodes", "web-1", "request id: req-", "--release"] {
        assert!(
            refused.stderr.contains(needle),
            "{needle}:\n{}",
            refused.stderr
        );
    }
    let dry = cli.ok(&["podm", "delete", "rack-a", "--dry-run"]);
    assert!(
        dry.stdout.contains("would NOT be deleted") && dry.stdout.contains("web-1"),
        "{}",
        dry.stdout
    );
    let dry = cli
        .ok(&[
            "podm",
            "delete",
            "rack-a",
            "--release",
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(dry["would_delete"], true);
    // Without a terminal to ask on, --release needs --yes.
    let unconfirmed = cli.expect(2, &["podm", "delete", "rack-a", "--release"]);
    assert!(
        unconfirmed.stderr.contains("--yes"),
        "{}",
        unconfirmed.stderr
    );
    assert_eq!(sims.pods[0].nodes().len(), 1);

    cli.ok(&["podm", "delete", "rack-a", "--release", "--yes"]);
    assert!(sims.pods[0].nodes().is_empty(), "the node was decomposed");
    assert_eq!(
        cli.ok(&["node", "list", "--json"]).json(),
        Value::Array(vec![])
    );
    let left = cli.ok(&["podm", "list", "--json"]).json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["name"], "rack-b");

    cli.assert_password_never_printed();
}

#[test]
fn systems_are_listed_with_filters_and_missing_podms_are_named() {
    let server = Server::start(&[]);
    let sims = Sims::start(2, |_| {});
    let cli = Cli::new(&server);
    let a = cli.add_podm("rack-a", &sims.pods[0]);
    let b = cli.add_podm("rack-b", &sims.pods[1]);

    let all = cli.ok(&["system", "list", "--json"]).json();
    assert_eq!(all.as_array().unwrap().len(), 16);
    let of_a = cli
        .ok(&["system", "list", "--podm", "rack-a", "--json"])
        .json();
    let of_a = of_a.as_array().unwrap();
    assert_eq!(of_a.len(), 8);
    assert!(of_a.iter().all(|s| s["podm_id"] == a.as_str()));

    // Expectations from the simulator's inventory.
    let systems: Vec<_> = sims
        .pods
        .iter()
        .flat_map(|p| p.inventory().systems.clone())
        .collect();
    let cores = systems.iter().map(|s| s.total_cores()).max().unwrap();
    let memory = systems.iter().map(|s| s.memory_mib()).max().unwrap();
    let with_cores = cli
        .ok(&[
            "system",
            "list",
            "--min-cores",
            &cores.to_string(),
            "--json",
        ])
        .json();
    assert_eq!(
        with_cores.as_array().unwrap().len(),
        systems.iter().filter(|s| s.total_cores() >= cores).count()
    );
    let with_memory = cli
        .ok(&[
            "system",
            "list",
            "--min-memory-mib",
            &memory.to_string(),
            "--free",
            "--json",
        ])
        .json();
    assert_eq!(
        with_memory.as_array().unwrap().len(),
        systems.iter().filter(|s| s.memory_mib() >= memory).count()
    );
    let first = cli.ok(&["system", "list", "--limit", "3", "--json"]).json();
    assert_eq!(first.as_array().unwrap().len(), 3);
    let marker = first[2]["id"].as_str().unwrap();
    let next = cli
        .ok(&[
            "system", "list", "--limit", "3", "--marker", marker, "--json",
        ])
        .json();
    assert_eq!(next[0]["id"], all[3]["id"]);

    let table = cli.ok(&["system", "list", "--podm", "rack-b"]).stdout;
    assert!(
        table.contains("rack-b") && table.contains("CORES"),
        "{table}"
    );
    let id = all[0]["id"].as_str().unwrap();
    assert_eq!(cli.ok(&["system", "show", id, "--json"]).json()["id"], id);

    let synced = cli.ok(&["device", "sync", "--json"]).json();
    assert_eq!(synced.as_array().unwrap().len(), 2, "{synced}");
    let synced_a = cli
        .ok(&["device", "sync", "--podm", "rack-a", "--json"])
        .json();
    assert_eq!(synced_a[0]["podm_id"], a.as_str());
    let devices = cli
        .ok(&["device", "list", "--podm", "rack-a", "--json"])
        .json();
    assert!(devices.is_array(), "{devices}");
    cli.expect(
        1,
        &["device", "show", "00000000-0000-0000-0000-000000000000"],
    );

    sims.runtime.block_on(sims.pods[1].stop());
    let partial = cli.ok(&["system", "list", "--refresh", "--json"]);
    let partial_systems = partial.json();
    assert_eq!(partial_systems.as_array().unwrap().len(), 8);
    assert!(
        partial.stderr.contains("warning:") && partial.stderr.contains(&format!("rack-b {b}")),
        "{}",
        partial.stderr
    );
    cli.assert_password_never_printed();
}

#[test]
fn flavors_are_created_listed_shown_used_and_deleted() {
    let server = Server::start(&[]);
    let cli = Cli::new(&server);
    let created = cli
        .ok(&[
            "flavor",
            "create",
            "small",
            "--cores",
            "4",
            "--memory-mib",
            "8192",
            "--disk",
            "100:SSD",
            "--description",
            "web tier",
            "--json",
        ])
        .json();
    assert_eq!(created["properties"]["processor"]["total_cores"], 4);
    assert_eq!(created["properties"]["storage"][0]["type"], "SSD");
    cli.ok(&["flavor", "create", "big", "--cores", "32"]);
    cli.expect(1, &["flavor", "create", "small", "--cores", "8"]);
    cli.expect(2, &["flavor", "create", "empty"]);

    let list = cli.ok(&["flavor", "list"]).stdout;
    assert!(list.contains("small") && list.contains("big"), "{list}");
    assert_eq!(
        cli.ok(&["flavor", "list", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let shown = cli.ok(&["flavor", "show", "small", "--json"]).json();
    assert_eq!(shown["uuid"], created["uuid"]);

    assert_eq!(
        cli.ok(&["node", "list", "--flavor", "small", "--json"])
            .json(),
        Value::Array(vec![])
    );
    // With no PODM registered, compose by flavor is refused by the API (exit 1).
    let refused = cli.expect(1, &["node", "compose", "web-1", "--flavor", "small"]);
    assert!(refused.stderr.contains("NoValidPodm"), "{}", refused.stderr);

    cli.ok(&["flavor", "delete", "small"]);
    let left = cli.ok(&["flavor", "list", "--json"]).json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    let gone = cli.expect(1, &["flavor", "delete", "small"]);
    assert!(gone.stderr.contains("404"), "{}", gone.stderr);
}

#[test]
fn exit_codes_separate_usage_errors_from_api_and_network_failures() {
    let server = Server::start(&[]);
    let cli = Cli::new(&server);
    cli.ok(&["podm", "list"]);
    cli.expect(2, &["podm", "frobnicate"]);
    cli.expect(2, &["node", "compose", "web-1"]);
    cli.expect(
        2,
        &["node", "compose", "web-1", "--flavor", "f", "--cores", "2"],
    );
    cli.expect(
        2,
        &["node", "compose", "web-1", "--cores", "2", "--disk", "big"],
    );
    cli.expect(1, &["node", "show", "00000000-0000-0000-0000-000000000000"]);
    cli.expect(
        2,
        &[
            "node",
            "compose",
            "web-1",
            "--cores",
            "2",
            "--idempotency-key",
            "tab\tinside",
        ],
    );

    let help = cli.ok(&["node", "compose", "--help"]).stdout;
    assert!(help.contains("Example"), "{help}");

    // A port nobody listens on: exit 1 and a hint about --url.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = Command::new(valence_bin())
        .args(["podm", "list"])
        .env("VALENCE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect") && stderr.contains("VALENCE_URL"),
        "{stderr}"
    );
    let bad_url = Command::new(valence_bin())
        .args(["podm", "list", "--url", "not a url"])
        .output()
        .unwrap();
    assert_eq!(bad_url.status.code(), Some(2));
}

#[test]
fn sim_prints_urls_that_answer() {
    let mut child = Command::new(valence_bin())
        .args(["sim", "--pods", "2", "--systems", "4", "--port", "0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut urls = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while urls.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let _ = child.kill();
            panic!("valence sim printed {} URL(s) within 60 s", urls.len());
        };
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            urls.push(url.to_owned());
        }
    }
    let answers: Vec<(u16, Value)> = urls
        .iter()
        .map(|url| {
            let mut resp = agent().get(&format!("{url}/redfish/v1")).call().unwrap();
            (
                resp.status().as_u16(),
                resp.body_mut().read_json().unwrap_or(Value::Null),
            )
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(urls[0], urls[1]);
    for (status, root) in answers {
        assert_eq!(status, 200);
        assert!(root["Oem"]["Intel_RackScale"].is_object(), "{root}");
    }
}
