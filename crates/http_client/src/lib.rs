//! HTTP client for Redfish pod managers: TLS policy, Basic and session auth, timeouts, bounded retries, typed Redfish errors.
//!
//! One [`PodmClient`] per PODM. Every call has a total deadline (`request_timeout`) covering
//! the wait for a concurrency slot, a session login, all retries and the body; it returns a
//! typed [`Error`] rather than hanging. Only idempotent methods are retried. This is the only
//! crate of Valence that knows hyper.

mod client;
mod config;
mod connector;
mod error;
mod paging;
mod redfish_error;
mod retry;
mod session;
mod tls;

pub use client::{PodmClient, Response};
pub use config::{Auth, ClientConfig, DEFAULT_SESSIONS_PATH, RetryPolicy, TlsPolicy};
pub use error::Error;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method};
pub use redfish_error::{ExtendedInfo, RedfishError};
pub use secrecy::SecretString;
pub use url::Url;
