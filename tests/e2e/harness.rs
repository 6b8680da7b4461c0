//! Shared harness: starts the built server in a temporary directory and talks to it over HTTP.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `valence serve`, killed when dropped.
pub struct Server {
    pub base: String,
    /// The working directory; removed when the server is dropped.
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn valence_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_valence"))
}

impl Server {
    /// Starts `valence serve` on an ephemeral port with `args`, working directory a fresh
    /// temporary directory, and waits (with a deadline) until it says where it listens.
    pub fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, args)
    }

    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
        let mut child = Command::new(valence_bin())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
            Err(_) => {
                let _ = child.kill();
                panic!("valence serve did not report its address within 60 s");
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

/// Polls `check` until it returns `Some`, or panics after `deadline` naming `what`.
pub fn wait_for<T>(what: &str, deadline: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
