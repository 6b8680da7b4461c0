//! How to reach one PODM ([`PodmConfig`], built by the API from its database row), the driver
//! names, and the normalisation of a PODM's base URL (DESIGN.md §3).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use valence_http_client::{Auth, ClientConfig, RetryPolicy, TlsPolicy, Url};

/// The Redfish service root path every driver appends to the base URL.
pub const SERVICE_ROOT: &str = "/redfish/v1";

/// Which implementation speaks to a PODM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// Intel Rack Scale Design 2.x (and 1.x spellings): Nodes, Allocate, Assemble.
    Rsd,
    /// Any Redfish service: systems and reset; compose only with a DMTF CompositionService.
    Redfish,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Rsd => "rsd",
            Driver::Redfish => "redfish",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Driver {
    type Err = InvalidPodmConfig;

    /// `rsd`, `redfish`, and upstream Valence's `redfishv1` (which meant RSD).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rsd" | "redfishv1" => Ok(Driver::Rsd),
            "redfish" => Ok(Driver::Redfish),
            other => Err(InvalidPodmConfig::new(
                "driver",
                format!("{other:?} is not a driver (rsd, redfish, redfishv1)"),
            )),
        }
    }
}

/// How Valence authenticates to a PODM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    None,
    /// HTTP Basic on every request (upstream Valence's only kind).
    Basic,
    /// A Redfish session when the service root offers one; Basic otherwise.
    Session,
}

impl FromStr for AuthType {
    type Err = InvalidPodmConfig;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(AuthType::None),
            "basic" => Ok(AuthType::Basic),
            "session" | "redfish-session" => Ok(AuthType::Session),
            other => Err(InvalidPodmConfig::new(
                "authentication.type",
                format!("{other:?} is not an authentication type (basic, session, none)"),
            )),
        }
    }
}

/// A PODM setting that cannot work; `field` names it as the API calls it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct InvalidPodmConfig {
    pub field: &'static str,
    pub detail: String,
}

impl InvalidPodmConfig {
    fn new(field: &'static str, detail: impl Into<String>) -> Self {
        Self {
            field,
            detail: detail.into(),
        }
    }
}

/// Everything needed to talk to one PODM. `Debug` never shows the password.
#[derive(Clone)]
pub struct PodmConfig {
    /// The PODM's uuid in Valence: the connection cache key.
    pub uuid: String,
    /// Base URL as registered (`https://host:port`, optionally ending in `/redfish/v1`).
    pub url: String,
    /// `None`: detected from the service root.
    pub driver: Option<Driver>,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// Verify the PODM's TLS certificate (against `ca_cert` when given, else system roots).
    pub tls_verify: bool,
    /// PEM of the PODM's own CA (or self-signed certificate).
    pub ca_cert: Option<String>,
    pub connect_timeout: Duration,
    /// Budget of one HTTP call (retries included).
    pub request_timeout: Duration,
    /// How long a compose may wait for `Assembled` before it gives up and deletes the node.
    pub compose_timeout: Duration,
    /// How long deleting a node after a failed compose is retried before it is reported leaked.
    pub cleanup_timeout: Duration,
    /// Requests in flight to this PODM at most.
    pub max_concurrent: usize,
    /// How long a system's hardware details (processors, memory modules, NICs, drives) read
    /// once are reused by later reads while its document still describes the same hardware;
    /// zero reads them every time.
    pub details_ttl: Duration,
}

impl fmt::Debug for PodmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PodmConfig")
            .field("uuid", &self.uuid)
            .field("url", &self.url)
            .field("driver", &self.driver)
            .field("auth_type", &self.auth_type)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls_verify", &self.tls_verify)
            .field("ca_cert", &self.ca_cert.as_ref().map(|_| "(PEM)"))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("compose_timeout", &self.compose_timeout)
            .field("cleanup_timeout", &self.cleanup_timeout)
            .field("max_concurrent", &self.max_concurrent)
            .field("details_ttl", &self.details_ttl)
            .finish()
    }
}

impl PodmConfig {
    /// A configuration with defaults: driver detected, no credentials, TLS verified, 5 s connect,
    /// 30 s per call, 10 min to assemble, 60 s to clean up, 16 concurrent requests, hardware
    /// details reused for 10 min.
    pub fn new(uuid: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            uuid: uuid.into(),
            url: url.into(),
            driver: None,
            auth_type: AuthType::None,
            username: None,
            password: None,
            tls_verify: true,
            ca_cert: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            compose_timeout: Duration::from_secs(600),
            cleanup_timeout: Duration::from_secs(60),
            max_concurrent: 16,
            details_ttl: Duration::from_secs(600),
        }
    }

    /// Basic or session credentials.
    pub fn with_credentials(
        mut self,
        auth_type: AuthType,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        self.auth_type = auth_type;
        self.username = Some(username.into());
        self.password = Some(password);
        self
    }

    /// Checks what can be checked without the network: URL, credentials, timeouts.
    pub fn validate(&self) -> Result<(), InvalidPodmConfig> {
        normalize_base_url(&self.url)?;
        if self.auth_type != AuthType::None {
            if self.username.as_deref().is_none_or(|u| u.trim().is_empty()) {
                return Err(InvalidPodmConfig::new(
                    "authentication.username",
                    "is required for basic and session authentication",
                ));
            }
            if self.password.is_none() {
                return Err(InvalidPodmConfig::new(
                    "authentication.password",
                    "is required for basic and session authentication",
                ));
            }
        }
        if let Some(pem) = &self.ca_cert
            && !pem.contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(InvalidPodmConfig::new(
                "ca_cert",
                "is not a PEM certificate (no BEGIN CERTIFICATE line)",
            ));
        }
        for (field, value) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("compose_timeout", self.compose_timeout),
        ] {
            if value.is_zero() {
                return Err(InvalidPodmConfig::new(field, "must be greater than zero"));
            }
        }
        if self.max_concurrent == 0 {
            return Err(InvalidPodmConfig::new(
                "max_concurrent",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Whether a connection built from `other` would be the same as one built from `self`
    /// (same URL, credentials, TLS, driver and limits). A changed PODM gets a new connection.
    pub fn same_connection(&self, other: &PodmConfig) -> bool {
        let secret = |p: &Option<SecretString>| p.as_ref().map(|s| s.expose_secret().to_owned());
        self.uuid == other.uuid
            && self.url == other.url
            && self.driver == other.driver
            && self.auth_type == other.auth_type
            && self.username == other.username
            && secret(&self.password) == secret(&other.password)
            && self.tls_verify == other.tls_verify
            && self.ca_cert == other.ca_cert
            && self.connect_timeout == other.connect_timeout
            && self.request_timeout == other.request_timeout
            && self.compose_timeout == other.compose_timeout
            && self.cleanup_timeout == other.cleanup_timeout
            && self.max_concurrent == other.max_concurrent
            && self.details_ttl == other.details_ttl
    }

    pub(crate) fn tls_policy(&self) -> TlsPolicy {
        match (&self.ca_cert, self.tls_verify) {
            (_, false) => TlsPolicy::InsecureNoVerify,
            (Some(pem), true) => TlsPolicy::PinnedCa { pem: pem.clone() },
            (None, true) => TlsPolicy::SystemRoots,
        }
    }

    /// The HTTP client settings with `auth`; the base URL normalised.
    pub(crate) fn client_config(&self, auth: Auth) -> Result<ClientConfig, InvalidPodmConfig> {
        let mut config = ClientConfig::new(normalize_base_url(&self.url)?, auth);
        config.tls = self.tls_policy();
        config.connect_timeout = self.connect_timeout;
        config.request_timeout = self.request_timeout;
        config.max_concurrent = self.max_concurrent;
        config.retry = RetryPolicy::default();
        Ok(config)
    }

    /// Basic credentials (or none): what the service root is read with, and what every request
    /// uses unless a session is configured and offered.
    pub(crate) fn basic_auth(&self) -> Auth {
        match (&self.auth_type, &self.username, &self.password) {
            (AuthType::None, _, _) | (_, None, _) | (_, _, None) => Auth::None,
            (_, Some(username), Some(password)) => Auth::Basic {
                username: username.clone(),
                password: password.clone(),
            },
        }
    }

    pub(crate) fn session_auth(&self, sessions_path: &str) -> Option<Auth> {
        match (&self.auth_type, &self.username, &self.password) {
            (AuthType::Session, Some(username), Some(password)) => Some(Auth::Session {
                username: username.clone(),
                password: password.clone(),
                sessions_path: sessions_path.to_owned(),
            }),
            _ => None,
        }
    }
}

/// The base URL of a PODM as Valence stores it: `scheme://host[:port]`, no path. A URL ending
/// in `/redfish/v1` (with or without a trailing slash) is accepted and cut back to its origin.
///
/// Any other path is refused: Redfish links are absolute paths (`/redfish/v1/...`), so a PODM
/// behind a path prefix could not be followed.
pub fn normalize_base_url(raw: &str) -> Result<Url, InvalidPodmConfig> {
    let trimmed = raw.trim();
    let url = Url::parse(trimmed)
        .map_err(|e| InvalidPodmConfig::new("url", format!("{trimmed:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(InvalidPodmConfig::new(
            "url",
            format!("scheme {:?} is not http or https", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidPodmConfig::new("url", "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InvalidPodmConfig::new(
            "url",
            "must not contain credentials; give them as authentication",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(InvalidPodmConfig::new(
            "url",
            "must not have a query or fragment",
        ));
    }
    let path = url.path().trim_end_matches('/');
    if !(path.is_empty() || path == SERVICE_ROOT) {
        return Err(InvalidPodmConfig::new(
            "url",
            format!(
                "path {:?} is not supported: give the PODM's base URL (https://host:port), \
                 optionally ending in {SERVICE_ROOT}",
                url.path()
            ),
        ));
    }
    let mut origin = url;
    origin.set_path("/");
    Ok(origin)
}

/// [`normalize_base_url`] as the text to store: `https://host:port` without a trailing slash.
pub fn normalize_base_url_text(raw: &str) -> Result<String, InvalidPodmConfig> {
    let url = normalize_base_url(raw)?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        for raw in [
            "https://podm:8443",
            "https://podm:8443/",
            "https://podm:8443/redfish/v1",
            " https://podm:8443/redfish/v1/ ",
        ] {
            assert_eq!(
                normalize_base_url_text(raw).unwrap(),
                "https://podm:8443",
                "{raw}"
            );
        }
        assert_eq!(
            normalize_base_url_text("http://10.0.0.1").unwrap(),
            "http://10.0.0.1"
        );
    }

    #[test]
    fn unusable_base_urls_name_the_problem() {
        for (raw, needle) in [
            ("podm:8443", "scheme"),
            ("ftp://podm", "scheme"),
            ("https://admin:pw@podm", "credentials"),
            ("https://podm/podm1", "path"),
            ("https://podm/redfish/v1/Systems", "path"),
            ("https://podm/?x=1", "query"),
            ("not a url", "not a URL"),
        ] {
            let err = normalize_base_url(raw).unwrap_err();
            assert_eq!(err.field, "url");
            assert!(err.detail.contains(needle), "{raw}: {err}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn drivers_and_auth_types_parse_with_upstream_names() {
        assert_eq!("redfishv1".parse::<Driver>().unwrap(), Driver::Rsd);
        assert_eq!("RSD".parse::<Driver>().unwrap(), Driver::Rsd);
        assert_eq!("redfish".parse::<Driver>().unwrap(), Driver::Redfish);
        assert_eq!("ipmi".parse::<Driver>().unwrap_err().field, "driver");
        assert_eq!("basic".parse::<AuthType>().unwrap(), AuthType::Basic);
        assert_eq!("Session".parse::<AuthType>().unwrap(), AuthType::Session);
    }

    #[test]
    fn password_never_printed_and_changes_make_a_new_connection() {
        let a = PodmConfig::new("u1", "https://podm:8443").with_credentials(
            AuthType::Basic,
            "admin",
            SecretString::from("hunter2"),
        );
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(a.same_connection(&a.clone()));
        let b = PodmConfig::new("u1", "https://podm:8443").with_credentials(
            AuthType::Basic,
            "admin",
            SecretString::from("hunter3"),
        );
        assert!(!a.same_connection(&b));
        let mut c = a.clone();
        c.tls_verify = false;
        assert!(!a.same_connection(&c));
        let mut d = a.clone();
        d.url = "https://other:8443".into();
        assert!(!a.same_connection(&d));
    }

    #[test]
    fn validate_names_the_field() {
        let mut c = PodmConfig::new("u", "https://podm");
        c.auth_type = AuthType::Basic;
        assert_eq!(c.validate().unwrap_err().field, "authentication.username");
        let mut c = PodmConfig::new("u", "https://podm");
        c.ca_cert = Some("garbage".into());
        assert_eq!(c.validate().unwrap_err().field, "ca_cert");
        assert!(
            PodmConfig::new("u", "https://podm/redfish/v1")
                .validate()
                .is_ok()
        );
    }
}
