//! The one error type of this crate: every failure names the URL at fault and says what went wrong.
//!
//! Policy: network, TLS, status and body problems are all values of [`Error`], never panics;
//! messages are meant for operators (they end up in a PODM's `last_error`), so they say what
//! was wrong rather than repeating a library's wording; secrets never appear in them.

use std::time::Duration;

use crate::redfish_error::RedfishError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client configuration cannot work; `field` names the setting.
    #[error("invalid HTTP client configuration: {field} {detail}")]
    InvalidConfig { field: &'static str, detail: String },
    /// A path or link cannot be requested (unparsable, or not on the PODM's origin).
    #[error("invalid URL {url}: {detail}")]
    InvalidUrl { url: String, detail: String },
    /// No TCP connection (refused, unreachable, DNS, or no connection within the connect timeout).
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The TLS handshake failed; `detail` says why (unknown issuer, name mismatch, expiry...).
    #[error("TLS failure with {url}: {detail}")]
    Tls { url: String, detail: String },
    /// The connection broke during the exchange (reset, closed before a complete answer).
    #[error("connection to {url} failed: {detail}")]
    Transport { url: String, detail: String },
    /// The call did not finish within the request timeout.
    #[error("no complete answer from {url} within {after:?}")]
    Timeout { url: String, after: Duration },
    /// The PODM answered with an error status.
    #[error("{url} answered {status}{}", describe_status(redfish.as_deref(), excerpt))]
    Status {
        url: String,
        status: u16,
        /// The decoded Redfish error body, when the body was one.
        redfish: Option<Box<RedfishError>>,
        /// The start of the body otherwise (empty when there was none).
        excerpt: String,
    },
    /// Credentials were refused (login failed, or 401 even after logging in again).
    #[error("authentication with {url} failed: {detail}")]
    Auth { url: String, detail: String },
    /// The body is not the JSON expected; `path` names the field (`Members[3].@odata.id`).
    #[error("cannot decode {url}: {path}: {detail}")]
    Decode {
        url: String,
        path: String,
        detail: String,
    },
    /// The body is longer than the configured limit; reading stopped there.
    #[error("response from {url} exceeds the limit of {limit} bytes")]
    TooLarge { url: String, limit: usize },
    /// A collection has more pages than the configured limit.
    #[error("collection {url} has more than {limit} pages")]
    TooManyPages { url: String, limit: usize },
    /// `Members@odata.nextLink` points back to a page already read.
    #[error("collection paging loops back to {url}")]
    PageLoop { url: String },
}

fn describe_status(redfish: Option<&RedfishError>, excerpt: &str) -> String {
    match redfish {
        Some(r) => format!(": {r}"),
        None if excerpt.is_empty() => String::new(),
        None => format!(": {excerpt}"),
    }
}

impl Error {
    /// The URL the failure is about (for `InvalidConfig`, the empty string).
    pub fn url(&self) -> &str {
        match self {
            Error::InvalidConfig { .. } => "",
            Error::InvalidUrl { url, .. }
            | Error::Connect { url, .. }
            | Error::Tls { url, .. }
            | Error::Transport { url, .. }
            | Error::Timeout { url, .. }
            | Error::Status { url, .. }
            | Error::Auth { url, .. }
            | Error::Decode { url, .. }
            | Error::TooLarge { url, .. }
            | Error::TooManyPages { url, .. }
            | Error::PageLoop { url } => url,
        }
    }

    /// The HTTP status, when the PODM answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The decoded Redfish error body, when there was one.
    pub fn redfish(&self) -> Option<&RedfishError> {
        match self {
            Error::Status { redfish, .. } => redfish.as_deref(),
            _ => None,
        }
    }

    /// Whether repeating an idempotent request may succeed: connection failures and 503.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::Transport { .. } | Error::Status { status: 503, .. }
        )
    }

    /// Whether the PODM could not be talked to at all (the health check marks it offline).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::Tls { .. }
                | Error::Transport { .. }
                | Error::Timeout { .. }
        )
    }
}
