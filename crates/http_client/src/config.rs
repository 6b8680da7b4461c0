//! How to reach one PODM: base URL, TLS policy, credentials, timeouts, retry and size limits.

use std::time::Duration;

use secrecy::SecretString;

use crate::error::Error;

/// Redfish's standard session collection, used unless a PODM puts it elsewhere.
pub const DEFAULT_SESSIONS_PATH: &str = "/redfish/v1/SessionService/Sessions";

/// Everything one [`crate::PodmClient`] needs. Build with [`ClientConfig::new`] and adjust fields.
///
/// `Debug` shows no secret: passwords are [`SecretString`]s, and a password written into
/// `base_url` (refused by [`crate::PodmClient::new`]) is masked.
#[derive(Clone)]
pub struct ClientConfig {
    /// `https://host:port` (or `http://`). The client appends nothing: callers pass absolute
    /// paths such as `/redfish/v1/Systems`, and only URLs of this origin are ever requested.
    pub base_url: url::Url,
    /// How the PODM's certificate is checked (ignored for `http://`).
    pub tls: TlsPolicy,
    pub auth: Auth,
    /// Budget for TCP connect plus TLS handshake of one new connection.
    pub connect_timeout: Duration,
    /// Budget for one whole call (waiting for a concurrency slot, session login, every retry,
    /// reading the body): the call returns, successful or not, within it.
    pub request_timeout: Duration,
    /// Requests in flight to this PODM at most; further calls wait (within their deadline).
    pub max_concurrent: usize,
    /// Response bodies longer than this are abandoned with [`Error::TooLarge`].
    pub max_response_bytes: usize,
    /// Pages [`crate::PodmClient::collection_members`] follows at most.
    pub max_pages: usize,
    pub retry: RetryPolicy,
    pub user_agent: String,
}

impl ClientConfig {
    /// A configuration with conservative defaults: system roots, 5 s connect, 30 s per call,
    /// 8 concurrent requests, 16 MiB bodies, 100 pages, 3 attempts.
    pub fn new(base_url: url::Url, auth: Auth) -> Self {
        Self {
            base_url,
            tls: TlsPolicy::SystemRoots,
            auth,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_concurrent: 8,
            max_response_bytes: 16 * 1024 * 1024,
            max_pages: 100,
            retry: RetryPolicy::default(),
            user_agent: concat!("valence/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Rejects values that would make the client hang, never send, or send credentials badly.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid =
            |field: &'static str, detail: String| Err(Error::InvalidConfig { field, detail });
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return invalid(
                "base_url",
                format!("scheme of {} must be http or https", masked(&self.base_url)),
            );
        }
        if self.base_url.host_str().is_none_or(str::is_empty) {
            return invalid(
                "base_url",
                format!("{} has no host", masked(&self.base_url)),
            );
        }
        if !self.base_url.username().is_empty() || self.base_url.password().is_some() {
            // Credentials in the URL would end up in every log line and error naming a URL.
            return invalid(
                "base_url",
                "must not contain credentials; give them as auth".into(),
            );
        }
        if self.connect_timeout.is_zero() {
            return invalid("connect_timeout", "must be greater than zero".into());
        }
        if self.request_timeout.is_zero() {
            return invalid("request_timeout", "must be greater than zero".into());
        }
        if self.max_concurrent == 0 {
            return invalid("max_concurrent", "must be at least 1".into());
        }
        if self.max_response_bytes == 0 {
            return invalid("max_response_bytes", "must be at least 1".into());
        }
        if self.max_pages == 0 {
            return invalid("max_pages", "must be at least 1".into());
        }
        if self.retry.max_attempts == 0 {
            return invalid("retry.max_attempts", "must be at least 1".into());
        }
        if http::HeaderValue::from_str(&self.user_agent).is_err() {
            return invalid("user_agent", "is not a valid header value".into());
        }
        match &self.auth {
            // RFC 7617: the user-id of Basic credentials cannot contain a colon.
            Auth::Basic { username, .. } if username.contains(':') => invalid(
                "auth.username",
                "must not contain ':' for Basic authentication".into(),
            ),
            Auth::Session { sessions_path, .. } if !sessions_path.starts_with('/') => invalid(
                "auth.sessions_path",
                format!("{sessions_path:?} must be an absolute path"),
            ),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &masked(&self.base_url).as_str())
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_concurrent", &self.max_concurrent)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_pages", &self.max_pages)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

fn masked(url: &url::Url) -> url::Url {
    let mut url = url.clone();
    if url.password().is_some() {
        // Only fails for URLs that cannot have credentials, which then have none to hide.
        let _ = url.set_password(Some("***"));
    }
    url
}

/// How the PODM's TLS certificate is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsPolicy {
    /// Against the operating system's trusted roots.
    SystemRoots,
    /// Against these certificates only (PEM; one or more). A PODM's own CA, or its self-signed
    /// certificate itself. Host names are still checked.
    PinnedCa { pem: String },
    /// No verification at all: only for PODMs registered with verification off.
    InsecureNoVerify,
}

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// `Authorization: Basic` on every request.
    Basic {
        username: String,
        password: SecretString,
    },
    /// `Authorization: Bearer` on every request (Valence's own API tokens).
    Bearer {
        token: SecretString,
    },
    /// A Redfish session: POST `UserName`/`Password` to `sessions_path`, then `X-Auth-Token`.
    Session {
        username: String,
        password: SecretString,
        /// Usually [`DEFAULT_SESSIONS_PATH`].
        sessions_path: String,
    },
}

impl Auth {
    /// A session at the standard [`DEFAULT_SESSIONS_PATH`].
    pub fn session(username: impl Into<String>, password: SecretString) -> Self {
        Self::Session {
            username: username.into(),
            password,
            sessions_path: DEFAULT_SESSIONS_PATH.to_owned(),
        }
    }
}

/// Retries of idempotent requests (GET, HEAD, PUT, DELETE) after connection errors and 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Wait before the first retry when the server names none; doubled for each later one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts. A `Retry-After` asking for longer ends the retries: the
    /// 503 is returned rather than retrying earlier than the server asked.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_are_refused_and_never_printed() {
        let url = url::Url::parse("https://root:hunter2@podm:8443").unwrap();
        let config = ClientConfig::new(url, Auth::None);
        assert!(!format!("{config:?}").contains("hunter2"));
        let err = config.validate().unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidConfig {
                field: "base_url",
                ..
            }
        ));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn settings_that_would_hang_or_never_send_are_refused() {
        let url = url::Url::parse("https://podm:8443").unwrap();
        let mut config = ClientConfig::new(url.clone(), Auth::None);
        config.request_timeout = Duration::ZERO;
        assert!(matches!(
            config.validate(),
            Err(Error::InvalidConfig {
                field: "request_timeout",
                ..
            })
        ));
        let mut config = ClientConfig::new(url.clone(), Auth::None);
        config.max_concurrent = 0;
        assert!(matches!(
            config.validate(),
            Err(Error::InvalidConfig {
                field: "max_concurrent",
                ..
            })
        ));
        let config = ClientConfig::new(url::Url::parse("ftp://podm").unwrap(), Auth::None);
        assert!(matches!(
            config.validate(),
            Err(Error::InvalidConfig {
                field: "base_url",
                ..
            })
        ));
        let config = ClientConfig::new(
            url,
            Auth::Basic {
                username: "a:b".into(),
                password: SecretString::from("p"),
            },
        );
        assert!(matches!(
            config.validate(),
            Err(Error::InvalidConfig {
                field: "auth.username",
                ..
            })
        ));
    }
}
