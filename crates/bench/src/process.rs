//! The processes under test: the `valence` server and the simulated PODMs, each a child process
//! started here, read until it says it is listening, and killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::BenchError;

/// The `valence` binary: `$VALENCE_BIN`, else built now with cargo (release when this program
/// is a release build) so the figures are always of the current source.
pub fn valence_binary() -> Result<PathBuf, BenchError> {
    if let Some(path) = std::env::var_os("VALENCE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(&cargo);
    command.args([
        "build",
        "-p",
        "valence",
        "--bin",
        "valence",
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    eprintln!("building the valence binary ({command:?})");
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| BenchError::Build(format!("{}: {e}", Path::new(&cargo).display())))?;
    if !output.status.success() {
        return Err(BenchError::Build(format!("cargo exited {}", output.status)));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "valence")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| BenchError::Build("cargo named no valence executable".into()))
}

/// How to start simulated PODMs: a program and the arguments before the simulator's own
/// (`valence sim`, or this benchmark binary's `sim`).
#[derive(Debug, Clone)]
pub struct SimLauncher {
    pub program: PathBuf,
    pub prefix: Vec<String>,
}

/// A fleet of simulated PODMs in one child process.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    pub pods: usize,
    pub systems: usize,
    pub latency_ms: u64,
    pub allocation_delay_ms: u64,
    pub assembly_delay_ms: u64,
}

impl SimOptions {
    pub fn new(pods: usize, systems: usize) -> Self {
        Self {
            pods,
            systems,
            latency_ms: 0,
            allocation_delay_ms: 0,
            assembly_delay_ms: 0,
        }
    }

    pub fn latency(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }
}

/// Lines a child wrote on stdout, read in the background so its pipe never fills up.
fn stdout_lines(child: &mut Child) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    if let Some(out) = child.stdout.take() {
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    // Nobody listens any more; keep draining so the child never blocks.
                    continue;
                }
            }
        });
    }
    rx
}

/// A child process killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
    pid: u32,
    what: &'static str,
}

impl Process {
    fn spawn(what: &'static str, mut command: Command) -> Result<Self, BenchError> {
        command.kill_on_drop(true).stdin(Stdio::null());
        let program = format!("{:?}", command.as_std().get_program());
        let child = command.spawn().map_err(|source| BenchError::Spawn {
            what,
            program: program.clone(),
            source,
        })?;
        let pid = child.id().ok_or_else(|| BenchError::Spawn {
            what,
            program,
            source: std::io::Error::other("exited at once"),
        })?;
        Ok(Self { child, pid, what })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Kills the process and waits for it to be gone.
    pub async fn stop(mut self) {
        if let Err(e) = self.child.kill().await {
            eprintln!("stopping {} (pid {}): {e}", self.what, self.pid);
        }
    }
}

/// Simulated PODMs running in a child process.
#[derive(Debug)]
pub struct SimFleet {
    pub process: Process,
    /// Base URLs (`http://127.0.0.1:port`), PODM 0 first.
    pub urls: Vec<String>,
}

impl SimFleet {
    pub async fn start(launcher: &SimLauncher, options: &SimOptions) -> Result<Self, BenchError> {
        let mut command = Command::new(&launcher.program);
        command
            .args(&launcher.prefix)
            .arg("--pods")
            .arg(options.pods.to_string())
            .arg("--systems")
            .arg(options.systems.to_string())
            .arg("--latency-ms")
            .arg(options.latency_ms.to_string())
            .arg("--allocation-delay-ms")
            .arg(options.allocation_delay_ms.to_string())
            .arg("--assembly-delay-ms")
            .arg(options.assembly_delay_ms.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut process = Process::spawn("the PODM simulator", command)?;
        let mut lines = stdout_lines(&mut process.child);
        let within = Duration::from_secs(60 + options.pods as u64 / 10);
        let mut urls = Vec::with_capacity(options.pods);
        let deadline = tokio::time::Instant::now() + within;
        while urls.len() < options.pods {
            let line = tokio::time::timeout_at(deadline, lines.recv()).await;
            match line {
                // `podm-0 http://127.0.0.1:40001 (RSD 2.3, 50 systems, seed 1)`
                Ok(Some(line)) => {
                    if let Some(url) = line.split_whitespace().nth(1)
                        && url.starts_with("http")
                    {
                        urls.push(url.to_owned());
                    }
                }
                Ok(None) => {
                    return Err(BenchError::NotReady {
                        what: "the PODM simulator",
                        within,
                        detail: format!("it exited after {} of {} PODMs", urls.len(), options.pods),
                    });
                }
                Err(_) => {
                    return Err(BenchError::NotReady {
                        what: "the PODM simulator",
                        within,
                        detail: format!("{} of {} PODMs listening", urls.len(), options.pods),
                    });
                }
            }
        }
        Ok(Self { process, urls })
    }
}

/// Server settings that matter to the benchmarks, written to the server's TOML file.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub database_url: String,
    pub max_connections: u32,
    pub fanout_concurrency: usize,
    pub fanout_timeout: Duration,
    pub request_timeout: Duration,
    pub cache_ttl: Duration,
    pub refresh_interval: Duration,
    pub health_interval: Duration,
    pub max_concurrent_requests: usize,
    pub log_level: String,
}

impl ServerOptions {
    /// Background work pushed out of the way (an hour apart) and generous deadlines, so a
    /// measured request is the only thing the server does.
    pub fn quiet(database_url: String) -> Self {
        Self {
            database_url,
            max_connections: 10,
            fanout_concurrency: 256,
            fanout_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
            cache_ttl: Duration::from_secs(7200),
            refresh_interval: Duration::from_secs(3600),
            health_interval: Duration::from_secs(3600),
            max_concurrent_requests: 4096,
            log_level: "warn".into(),
        }
    }

    /// The shipped defaults of the background intervals (refresh 30 s, health 10 s, TTL 60 s).
    pub fn default_intervals(mut self) -> Self {
        self.cache_ttl = Duration::from_secs(60);
        self.refresh_interval = Duration::from_secs(30);
        self.health_interval = Duration::from_secs(10);
        self
    }

    fn to_toml(&self) -> String {
        let secs = |d: Duration| format!("\"{}ms\"", d.as_millis());
        format!(
            "[server]\nmax_concurrent_requests = {}\n\
             [database]\nurl = {:?}\nmax_connections = {}\n\
             [podm]\nrequest_timeout = {}\nfanout_timeout = {}\nfanout_concurrency = {}\n\
             [inventory]\ncache_ttl = {}\nrefresh_interval = {}\n\
             [health]\ninterval = {}\n\
             [logging]\nlevel = {:?}\n",
            self.max_concurrent_requests,
            self.database_url,
            self.max_connections,
            secs(self.request_timeout),
            secs(self.fanout_timeout),
            self.fanout_concurrency,
            secs(self.cache_ttl),
            secs(self.refresh_interval),
            secs(self.health_interval),
            self.log_level,
        )
    }
}

/// A `valence serve` child process.
#[derive(Debug)]
pub struct Server {
    pub process: Process,
    /// `http://127.0.0.1:port`
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts the server with `options`, its configuration and log in `dir`.
    pub async fn start(
        valence: &Path,
        options: &ServerOptions,
        dir: &Path,
    ) -> Result<Self, BenchError> {
        let config = dir.join("valence.toml");
        std::fs::write(&config, options.to_toml())
            .map_err(BenchError::io("writing valence.toml"))?;
        let log = dir.join("valence.log");
        let log_file =
            std::fs::File::create(&log).map_err(BenchError::io("creating valence.log"))?;
        let mut command = Command::new(valence);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env_remove("RUST_LOG")
            .env_remove("VALENCE_DATABASE_URL")
            .env_remove("VALENCE_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut process = Process::spawn("the valence server", command)?;
        let mut lines = stdout_lines(&mut process.child);
        let within = Duration::from_secs(60);
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, lines.recv()).await {
                Ok(Some(line)) => {
                    if let Some(base) = line.strip_prefix("listening on ") {
                        return Ok(Self {
                            process,
                            base: base.trim().to_owned(),
                            log,
                        });
                    }
                }
                Ok(None) | Err(_) => {
                    let tail = std::fs::read_to_string(&log).unwrap_or_default();
                    let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                    return Err(BenchError::NotReady {
                        what: "the valence server",
                        within,
                        detail: format!("no `listening on` line; log: {tail}"),
                    });
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
