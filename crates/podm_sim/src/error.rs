//! The simulator's error type: what can go wrong when starting, stopping or configuring PODMs.

use std::net::SocketAddr;

/// Failure to start or configure a simulated PODM. Request-level problems never surface here:
/// they become Redfish error bodies on the wire.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot generate the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot build the TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("invalid simulator setting {field}: {reason}")]
    Config { field: &'static str, reason: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(#[source] std::io::Error),
}

impl SimError {
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            field,
            reason: reason.into(),
        }
    }
}
