//! Shared harness: starts the built server in a temporary directory, simulated PODMs on a tokio
//! runtime of the test, a fresh SQLite or PostgreSQL database per test, and talks to the server
//! over HTTP while recording every answer (so a test can check no password ever left it).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{Value, json};
use valence_podm_sim::{Credentials, SimConfig, SimPodm};

/// A running `valence serve`, killed when dropped.
pub struct Server {
    pub base: String,
    /// The working directory; removed when the server is dropped.
    pub dir: tempfile::TempDir,
    child: Child,
}

/// Where the server's log goes: shown when the test fails, quiet otherwise.
const SERVER_LOG: &str = "server.log";

impl Drop for Server {
    fn drop(&mut self) {
        // Whether the server had ended by itself before the test stopped it.
        let ended = self.child.try_wait();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("server at {}: exit before the kill: {ended:?}", self.base);
            let log = std::fs::read_to_string(self.dir.path().join(SERVER_LOG)).unwrap_or_default();
            eprintln!("---- log of the server at {} ----\n{log}", self.base);
        }
    }
}

pub fn valence_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_valence"))
}

/// Adds a token to `dir/tokens.toml` with `valence token create`; returns the token.
pub fn create_token(dir: &std::path::Path, name: &str, role: &str) -> String {
    let out = Command::new(valence_bin())
        .args(["token", "create", "--name", name, "--role", role, "--file"])
        .arg(dir.join("tokens.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

impl Server {
    /// Starts `valence serve` on an ephemeral port with `args`, working directory a fresh
    /// temporary directory, and waits (with a deadline) until it says where it listens.
    pub fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, args)
    }

    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
        Self::start_with(dir, args, &[], None)
    }

    /// As [`Server::start_in`], with extra environment variables (after `RUST_LOG=info`, so
    /// they may override it) and the server's stderr (its log) sent to `stderr`, or to the
    /// `server.log` file of its directory when `None`.
    pub fn start_with(
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
        stderr: Option<Stdio>,
    ) -> Server {
        let stderr = match stderr {
            Some(stderr) => stderr,
            None => Stdio::from(std::fs::File::create(dir.path().join(SERVER_LOG)).unwrap()),
        };
        let mut child = Command::new(valence_bin())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("VALENCE_DATABASE_URL")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(error) => {
                let _ = child.kill();
                let status = child.wait();
                let log = std::fs::read_to_string(dir.path().join(SERVER_LOG)).unwrap_or_default();
                panic!(
                    "valence serve did not report its address ({error}; exit: {status:?}); log:\n{log}"
                );
            }
        };
        Server { base, dir, child }
    }

    /// Stops the server and hands back its working directory (database included).
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, placeholder)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's process id (to read its open descriptors under `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A blocking HTTP agent that returns 4xx/5xx responses instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Status and JSON body of a GET.
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let mut resp = agent().get(url).call().unwrap();
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_json()
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

// ------------------------------------------------------------------ polling

/// How long a test waits for a state before failing: an upper bound for a loaded machine, not
/// an expectation (states usually arrive within a second or two).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Calls `check` until it returns `Some`, at most `timeout`; panics naming `what` otherwise.
/// The short pause between calls only paces the polling: the deadline decides.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ------------------------------------------------------------------ databases

/// The variable naming an administrative PostgreSQL URL (a database that may create others).
pub const POSTGRES_URL_VARIABLE: &str = "VALENCE_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database of one test: a SQLite file in a temporary directory, or a randomly named
/// PostgreSQL database dropped afterwards (also after a panic).
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    /// `None` when the backend is PostgreSQL and no server is configured.
    pub fn create(backend: Backend) -> Option<TestDatabase> {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Some(TestDatabase {
                url: format!("sqlite://{}", dir.path().join("valence.db").display()),
                postgres: None,
                _dir: dir,
            }),
            Backend::Postgres => {
                let admin_url = std::env::var(POSTGRES_URL_VARIABLE)
                    .ok()
                    .filter(|url| !url.is_empty())?;
                let database = format!("valence_e2e_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|error| {
                    panic!("{POSTGRES_URL_VARIABLE}: cannot connect: {error}")
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE \"{database}\""))
                    .unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{database}"));
                Some(TestDatabase {
                    url: url.to_string(),
                    postgres: Some((admin_url, database)),
                    _dir: dir,
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, database)) = &self.postgres else {
            return;
        };
        // FORCE ends the connections of servers that are still shutting down.
        let dropped = PgConnection::establish(admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    ))
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("could not drop test database {database}: {error}");
        }
    }
}

// ------------------------------------------------------------------ HTTP with a record

/// One answer of the server.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    /// The body as JSON (`Null` when empty or not JSON).
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an error answer of `status` and `code` with the complete error body, its
    /// `request_id` equal to the `X-Request-Id` header; returns the body.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        let body = &self.json;
        assert_eq!(body["code"], code, "{}", self.text);
        assert_eq!(body["status"], status, "{}", self.text);
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{}",
            self.text
        );
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        let request_id = body["request_id"].as_str().unwrap_or_default();
        assert!(!request_id.is_empty(), "{}", self.text);
        assert_eq!(self.header("x-request-id"), Some(request_id));
        body
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.json
    }

    pub fn detail(&self) -> &str {
        self.json["detail"].as_str().unwrap_or_default()
    }
}

/// Every answer (headers and body) the server gave during one test.
pub type Transcript = Arc<Mutex<Vec<String>>>;

/// A client of one server that records what it receives.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    agent: ureq::Agent,
    transcript: Transcript,
}

impl Api {
    pub fn new(base: &str, transcript: Transcript) -> Api {
        // A new connection per request: a server may close a kept-alive connection after
        // refusing a request whose body it did not read, and a POST on such a connection
        // fails in the client instead of reaching the server.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Api {
            base: base.to_owned(),
            agent,
            transcript,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `method path` with `headers` and an optional raw body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.unwrap_or("").to_owned()).unwrap();
        let mut response = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut transcript = self.transcript.lock().unwrap();
        for (name, value) in &headers {
            transcript.push(format!("{method} {path} header {name}: {value}"));
        }
        transcript.push(format!("{method} {path} body: {text}"));
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send("PATCH", path, body)
    }

    pub fn send(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.request(
            method,
            path,
            &[("content-type", "application/json")],
            Some(&body.to_string()),
        )
    }

    /// `GET path`, asserting 200 and a JSON array.
    #[track_caller]
    pub fn list(&self, path: &str) -> Vec<Value> {
        let reply = self.get(path);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text);
        reply
            .json
            .as_array()
            .unwrap_or_else(|| panic!("GET {path}: not an array: {}", reply.text))
            .clone()
    }

    /// Registers `sim` under `name` (its credentials included); asserts 201.
    #[track_caller]
    pub fn register(&self, sim: &Sim, name: &str) -> Value {
        let reply = self.post("/v1/pod_managers", &sim.registration(name));
        reply.expect(201).clone()
    }

    /// `POST /v1/nodes` of `body`; asserts 202 with the node `allocating` and its `Location`.
    #[track_caller]
    pub fn compose(&self, body: &Value) -> Value {
        let reply = self.post("/v1/nodes", body);
        let node = reply.expect(202).clone();
        assert_eq!(node["state"], "allocating", "{}", reply.text);
        let uuid = node["uuid"].as_str().unwrap();
        assert_eq!(
            reply.header("location"),
            Some(format!("/v1/nodes/{uuid}").as_str())
        );
        node
    }

    /// Polls the node until it is `ready` or `failed`; returns its detail.
    #[track_caller]
    pub fn settled_node(&self, uuid: &str) -> Value {
        wait_for(
            &format!("node {uuid} to be ready or failed"),
            PATIENCE,
            || {
                let reply = self.get(&format!("/v1/nodes/{uuid}"));
                assert_eq!(reply.status, 200, "{}", reply.text);
                matches!(reply.json["state"].as_str(), Some("ready" | "failed"))
                    .then(|| reply.json.clone())
            },
        )
    }

    /// Composes and waits for the node; asserts it is `ready`.
    #[track_caller]
    pub fn compose_ready(&self, body: &Value) -> Value {
        let node = self.compose(body);
        let node = self.settled_node(node["uuid"].as_str().unwrap());
        assert_eq!(node["state"], "ready", "{node}");
        node
    }

    /// Polls the PODM until its `status` is `status`.
    #[track_caller]
    pub fn wait_podm_status(&self, uuid: &str, status: &str) -> Value {
        wait_for(
            &format!("pod manager {uuid} to be {status}"),
            PATIENCE,
            || {
                let podm = self.get(&format!("/v1/pod_managers/{uuid}"));
                assert_eq!(podm.status, 200, "{}", podm.text);
                (podm.json["status"] == status).then(|| podm.json.clone())
            },
        )
    }
}

// ------------------------------------------------------------------ simulated PODMs

/// Systems of each simulated PODM: small, so tests stay fast.
pub const SYSTEMS_PER_SIM: usize = 8;

/// A simulated PODM with what a test needs to know about it.
pub struct Sim {
    pub podm: SimPodm,
    pub seed: u64,
    pub systems: usize,
    pub username: String,
    pub password: String,
    runtime: tokio::runtime::Handle,
}

impl std::ops::Deref for Sim {
    type Target = SimPodm;

    fn deref(&self) -> &SimPodm {
        &self.podm
    }
}

impl Sim {
    /// The register body of this PODM.
    pub fn registration(&self, name: &str) -> Value {
        json!({
            "name": name,
            "url": self.podm.base_url(),
            "authentication": [{
                "type": "basic",
                "auth_items": {"username": self.username, "password": self.password},
            }],
        })
    }

    /// What this PODM holds, computed from its seed.
    pub fn expected_inventory(&self) -> valence_podm_sim::Inventory {
        valence_podm_sim::inventory(self.seed, self.systems)
    }

    /// Stops answering (as a crashed PODM); returns when its port is closed.
    pub fn stop(&self) {
        self.runtime.block_on(self.podm.stop());
    }

    pub fn start(&self) {
        self.runtime.block_on(self.podm.start()).unwrap();
    }

    fn basic_auth(&self) -> String {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password));
        format!("Basic {token}")
    }

    /// GETs `path` of the PODM itself, with its credentials.
    pub fn get_redfish(&self, path: &str) -> Value {
        let mut resp = agent()
            .get(&format!("{}{path}", self.podm.base_url()))
            .header("authorization", &self.basic_auth())
            .call()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "GET {path} of the PODM");
        resp.body_mut().read_json().unwrap()
    }

    /// POSTs `body` to `path` of the PODM itself (as a client other than Valence would);
    /// returns the status and the `Location` header.
    pub fn post_redfish(&self, path: &str, body: &Value) -> (u16, Option<String>) {
        let resp = agent()
            .post(&format!("{}{path}", self.podm.base_url()))
            .header("authorization", &self.basic_auth())
            .send_json(body)
            .unwrap();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (resp.status().as_u16(), location)
    }

    /// Composes a node on the PODM directly, outside Valence; returns its `@odata.id`.
    pub fn compose_outside_valence(&self, name: &str) -> String {
        let (status, location) =
            self.post_redfish("/redfish/v1/Nodes/Actions/Allocate", &json!({"Name": name}));
        assert_eq!(status, 201, "Allocate on the PODM");
        let location = location.unwrap();
        let path = location
            .strip_prefix(&self.podm.base_url())
            .unwrap_or(&location)
            .to_owned();
        let (status, _) =
            self.post_redfish(&format!("{path}/Actions/ComposedNode.Assemble"), &json!({}));
        assert_eq!(status, 204, "Assemble on the PODM");
        path
    }
}

// ------------------------------------------------------------------ one test's world

/// Health checks often enough that a PODM going down or up shows within a second. The
/// background inventory refresh runs once at start only: a refresh that was under way during a
/// compose puts back the inventory it read before (see
/// `faults::*::inventory_cache_never_goes_back`), which would make every read that follows a
/// compose flaky; the tests about the refresh turn it on. PODM deadlines and the inventory
/// cache keep the server's defaults (a loaded machine may need them); the tests about failures
/// shorten them ([`SHORT_PODM_DEADLINES`]).
pub const FAST_SERVER_ARGS: &[&str] = &["--refresh-interval", "3600", "--health-interval", "0.2"];

/// For tests where a PODM is down: each call to it gives up within 1.5 s (retries included)
/// and its cached inventory expires within a second.
pub const SHORT_PODM_DEADLINES: &[&str] = &["--podm-timeout", "1.5", "--cache-ttl", "1"];

/// The flags of `valence serve` on `database_url`: [`FAST_SERVER_ARGS`], each replaced by the
/// same flag in `extra` (flag and value pairs), then `extra`.
fn server_args<'a>(database_url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--database-url", database_url];
    for pair in FAST_SERVER_ARGS.chunks(2) {
        if !extra.contains(&pair[0]) {
            args.extend_from_slice(pair);
        }
    }
    args.extend_from_slice(extra);
    args
}

/// A server of this test and a recording client of it.
pub struct Valence {
    /// The process, killed when this is dropped.
    _server: Server,
    pub api: Api,
}

impl std::ops::Deref for Valence {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// What one scenario runs in: its backend and database, a runtime for its simulated PODMs and
/// the transcript of every answer its servers gave.
pub struct Ctx {
    pub backend: Backend,
    pub db: TestDatabase,
    runtime: tokio::runtime::Runtime,
    transcript: Transcript,
    secrets: Mutex<Vec<String>>,
}

impl Ctx {
    fn new(backend: Backend, db: TestDatabase) -> Ctx {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Ctx {
            backend,
            db,
            runtime,
            transcript: Arc::default(),
            secrets: Mutex::default(),
        }
    }

    /// Starts `count` simulated PODMs of [`SYSTEMS_PER_SIM`] systems, seeds `first_seed..`,
    /// each with its own password.
    pub fn sims(&self, count: usize, first_seed: u64) -> Vec<Sim> {
        self.sims_of(count, first_seed, SYSTEMS_PER_SIM)
    }

    pub fn sims_of(&self, count: usize, first_seed: u64, systems: usize) -> Vec<Sim> {
        (0..count)
            .map(|n| self.sim(first_seed + n as u64, systems, 0, &self.password()))
            .collect()
    }

    /// A new PODM password, checked against every answer at the end of the test.
    pub fn password(&self) -> String {
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        self.secrets.lock().unwrap().push(password.clone());
        password
    }

    /// Starts one simulated PODM on `port` (`0`: any) that accepts `admin` / `password`.
    pub fn sim(&self, seed: u64, systems: usize, port: u16, password: &str) -> Sim {
        let config = SimConfig {
            name: format!("sim-{seed}"),
            systems,
            seed,
            port,
            credentials: Some(Credentials::new("admin", password)),
            ..SimConfig::default()
        };
        let podm = self
            .runtime
            .block_on(valence_podm_sim::start(config))
            .unwrap();
        Sim {
            podm,
            seed,
            systems,
            username: "admin".to_owned(),
            password: password.to_owned(),
            runtime: self.runtime.handle().clone(),
        }
    }

    /// `extra` holds flag and value pairs; a flag of [`FAST_SERVER_ARGS`] given there replaces
    /// the default one.
    pub fn server(&self, extra: &[&str]) -> Valence {
        let server = Server::start(&server_args(&self.db.url, extra));
        let api = Api::new(&server.base, self.transcript.clone());
        Valence {
            _server: server,
            api,
        }
    }

    /// Starts a server and registers `sims` (named `podm-<n>`); returns their uuids in order.
    pub fn server_with(&self, sims: &[Sim]) -> (Valence, Vec<String>) {
        self.server_with_args(sims, &[])
    }

    pub fn server_with_args(&self, sims: &[Sim], extra: &[&str]) -> (Valence, Vec<String>) {
        let valence = self.server(extra);
        let uuids = sims
            .iter()
            .enumerate()
            .map(|(n, sim)| {
                let podm = valence.register(sim, &format!("podm-{n}"));
                podm["uuid"].as_str().unwrap().to_owned()
            })
            .collect();
        (valence, uuids)
    }

    /// Asserts no answer of any server in this test carried one of the PODM passwords.
    fn assert_no_secret_returned(&self) {
        let transcript = self.transcript.lock().unwrap();
        assert!(!transcript.is_empty(), "the scenario made no request");
        for secret in self.secrets.lock().unwrap().iter() {
            if let Some(leak) = transcript.iter().find(|answer| answer.contains(secret)) {
                panic!("a PODM password was returned: {leak}");
            }
        }
    }
}

/// Runs `scenario` on a fresh database of `backend`; passes when PostgreSQL is not configured,
/// saying so once per run. After the scenario, checks that no answer carried a password.
pub fn run(backend: Backend, scenario: fn(&Ctx)) {
    let Some(db) = TestDatabase::create(backend) else {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            println!(
                "skipped: {POSTGRES_URL_VARIABLE} is not set (the PostgreSQL e2e tests did not run)"
            );
        });
        return;
    };
    let ctx = Ctx::new(backend, db);
    scenario(&ctx);
    ctx.assert_no_secret_returned();
}

/// Generates `sqlite::<scenario>` and `postgres::<scenario>` tests for each scenario function
/// (`fn(&Ctx)`) of the calling module; attributes before a name (`#[ignore = "..."]`) go on
/// both tests.
macro_rules! on_both_backends {
    ($($(#[$attribute:meta])* $scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                $(#[$attribute])*
                fn $scenario() {
                    $crate::harness::run($crate::harness::Backend::Sqlite, super::$scenario);
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                $(#[$attribute])*
                fn $scenario() {
                    $crate::harness::run($crate::harness::Backend::Postgres, super::$scenario);
                }
            )+
        }
    };
}
pub(crate) use on_both_backends;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "a PODM password was returned")]
    fn the_password_check_catches_a_leak() {
        let ctx = Ctx::new(
            Backend::Sqlite,
            TestDatabase::create(Backend::Sqlite).unwrap(),
        );
        ctx.secrets.lock().unwrap().push("hunter2".to_owned());
        ctx.transcript
            .lock()
            .unwrap()
            .push(r#"GET /v1/pod_managers body: {"password":"hunter2"}"#.to_owned());
        ctx.assert_no_secret_returned();
    }

    #[test]
    fn extra_server_flags_replace_the_fast_defaults() {
        let args = server_args(
            "sqlite://x.db",
            &["--health-interval", "5", "--policy", "pack"],
        );
        let count = |flag: &str| args.iter().filter(|a| **a == flag).count();
        assert_eq!(count("--health-interval"), 1);
        assert_eq!(count("--refresh-interval"), 1);
        let at = args.iter().position(|a| *a == "--health-interval").unwrap();
        assert_eq!(args[at + 1], "5");
        assert_eq!(args[..2], ["--database-url", "sqlite://x.db"]);
        assert_eq!(args.len(), 2 + FAST_SERVER_ARGS.len() + 2);
    }
}
