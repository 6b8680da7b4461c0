//! The one error type of the benchmark suite: what failed, naming the process, URL or check.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot start {what} ({program}): {source}")]
    Spawn {
        what: &'static str,
        program: String,
        source: std::io::Error,
    },
    #[error("{what} was not ready within {}s: {detail}", .within.as_secs())]
    NotReady {
        what: &'static str,
        within: Duration,
        detail: String,
    },
    #[error("building the valence binary failed: {0}")]
    Build(String),
    #[error("{method} {url}: {detail}")]
    Http {
        method: String,
        url: String,
        detail: String,
    },
    #[error("{method} {url} answered {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: unexpected body: {detail}")]
    Body { url: String, detail: String },
    #[error("database: {0}")]
    Db(#[from] valence_db::DbError),
    #[error("database set-up ({what}): {detail}")]
    DbSetup { what: String, detail: String },
    #[error("reading {path}: {detail}")]
    Proc { path: String, detail: String },
    /// A benchmark's own check failed (wrong count, an error, a double allocation).
    #[error("check failed: {0}")]
    Check(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("argument {name}: {detail}")]
    Argument { name: &'static str, detail: String },
}

impl BenchError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
        let what = what.into();
        move |source| BenchError::Io { what, source }
    }
}
