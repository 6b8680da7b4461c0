//! Settings of a simulated PODM: fixed at start ([`SimConfig`]) or changeable while it runs
//! ([`Behavior`]: faults, dialect quirks and composition timings).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::error::SimError;

/// The RSD API version a simulated PODM speaks. The versions differ in where the service root
/// lists `Nodes` (top level in 2.1, under `Oem.Intel_RackScale` from 2.2 on), in the Allocate
/// request schema and in a few resource fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RsdVersion {
    V2_1,
    V2_2,
    V2_3,
}

impl RsdVersion {
    pub const ALL: [RsdVersion; 3] = [RsdVersion::V2_1, RsdVersion::V2_2, RsdVersion::V2_3];

    /// `Oem.Intel_RackScale.ApiVersion` of the service root.
    pub fn api_version(self) -> &'static str {
        match self {
            Self::V2_1 => "2.1.0",
            Self::V2_2 => "2.2.0",
            Self::V2_3 => "2.3.0",
        }
    }

    /// Whether the service root lists `Nodes`, `Services` and `EthernetSwitches` under
    /// `Oem.Intel_RackScale` (RSD 2.2 and later) instead of at its top level.
    pub fn collections_under_oem(self) -> bool {
        self >= Self::V2_2
    }
}

impl fmt::Display for RsdVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V2_1 => "2.1",
            Self::V2_2 => "2.2",
            Self::V2_3 => "2.3",
        })
    }
}

impl FromStr for RsdVersion {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_start_matches(['v', 'V']) {
            "2.1" | "2.1.0" | "2_1" => Ok(Self::V2_1),
            "2.2" | "2.2.0" | "2_2" => Ok(Self::V2_2),
            "2.3" | "2.3.0" | "2_3" => Ok(Self::V2_3),
            other => Err(SimError::config(
                "rsd_version",
                format!("{other:?} is not one of 2.1, 2.2, 2.3"),
            )),
        }
    }
}

/// The one account a simulated PODM accepts (Basic auth or a session login).
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: SecretString,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    pub(crate) fn matches(&self, username: &str, password: &str) -> bool {
        self.username == username && self.password.expose_secret() == password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// How a running PODM behaves; tests change it at run time through
/// [`SimPodm::update_behavior`](crate::SimPodm::update_behavior).
///
/// Rates are fractions of requests in `0.0..=1.0` (`1.0` = every request), drawn independently
/// in this order: reset, hang, 503, 500. The fault settings (latency, the rates, huge and
/// malformed bodies) apply only to request paths starting with `fault_path_prefix` when it is
/// set; the dialect settings (`page_size`, `rsd1_spellings`) and the composition settings apply
/// everywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// Added before every answer.
    pub latency: Duration,
    /// The request is acted on at once and its answer sent this much later: what a client that
    /// gives up (or dies) meanwhile sees as an answer lost in transit.
    pub answer_delay: Duration,
    /// Fraction of requests answered `500` with a Redfish error body.
    pub error_rate: f64,
    /// Fraction of requests answered `503` with `Retry-After`.
    pub unavailable_rate: f64,
    /// Sent as `Retry-After` (whole seconds, rounded up) with every `503`.
    pub retry_after: Duration,
    /// Fraction of requests accepted and never answered. A hung request ends (its connection
    /// is closed without an answer) when the behavior changes or the PODM stops.
    pub hang_rate: f64,
    /// Fraction of requests whose TCP connection is reset without an answer.
    pub reset_rate: f64,
    /// Fraction of successful `GET` answers whose JSON body is cut in half.
    pub malformed_json_rate: f64,
    /// Pads every successful `GET` JSON body to at least this many bytes (valid JSON with an
    /// extra `@Sim.Padding` string property); `0` is off.
    pub huge_response_bytes: usize,
    /// The fault settings above apply only to paths with this prefix (`None`: all paths).
    pub fault_path_prefix: Option<String>,
    /// Collections answer at most this many `Members` per page, with `Members@odata.nextLink`
    /// (`?$skip=N`) to the next page; `None` answers whole collections.
    pub page_size: Option<usize>,
    /// Speak RSD 1.x: `@DMTF.AllowableValues` and `Oem."Intel:RackScale"`.
    pub rsd1_spellings: bool,
    /// Answer Allocate with a path-only `Location` (`/redfish/v1/Nodes/3`) instead of the
    /// absolute URL an RSD PODM sends.
    pub relative_location: bool,
    /// A new node stays `Allocating` this long, then is `Allocated`.
    pub allocation_delay: Duration,
    /// An assembled node stays `Assembling` this long, then is `Assembled` (or `Failed`).
    pub assembly_delay: Duration,
    /// Fraction of assemblies that end `Failed`.
    pub assembly_failure_rate: f64,
    /// Fraction of node deletions answered `500` (the node stays), as a PODM that cannot power
    /// off a node does.
    pub delete_failure_rate: f64,
}

impl Default for Behavior {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            answer_delay: Duration::ZERO,
            error_rate: 0.0,
            unavailable_rate: 0.0,
            retry_after: Duration::from_secs(1),
            hang_rate: 0.0,
            reset_rate: 0.0,
            malformed_json_rate: 0.0,
            huge_response_bytes: 0,
            fault_path_prefix: None,
            page_size: None,
            rsd1_spellings: false,
            relative_location: false,
            allocation_delay: Duration::ZERO,
            assembly_delay: Duration::ZERO,
            assembly_failure_rate: 0.0,
            delete_failure_rate: 0.0,
        }
    }
}

impl Behavior {
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        let rates = [
            ("error_rate", self.error_rate),
            ("unavailable_rate", self.unavailable_rate),
            ("hang_rate", self.hang_rate),
            ("reset_rate", self.reset_rate),
            ("malformed_json_rate", self.malformed_json_rate),
            ("assembly_failure_rate", self.assembly_failure_rate),
            ("delete_failure_rate", self.delete_failure_rate),
        ];
        for (field, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SimError::config(
                    field,
                    format!("{rate} is not a fraction in 0.0..=1.0"),
                ));
            }
        }
        if self.page_size == Some(0) {
            return Err(SimError::config("page_size", "must be at least 1"));
        }
        Ok(())
    }

    pub(crate) fn faults_apply_to(&self, path: &str) -> bool {
        self.fault_path_prefix
            .as_deref()
            .is_none_or(|prefix| path.starts_with(prefix))
    }
}

/// Everything fixed when a simulated PODM starts.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Shown in log lines and in the PODM manager's name.
    pub name: String,
    pub version: RsdVersion,
    /// Number of computer systems in the inventory.
    pub systems: usize,
    /// Inventory seed: the same seed and size give the same inventory and the same JSON.
    pub seed: u64,
    /// NVMe drives in the PODM's pool at start, offered as fabric endpoints and attachable to
    /// composed nodes (see [`pooled_drives`](crate::pooled_drives)).
    pub pooled_drives: usize,
    pub bind: IpAddr,
    /// `0` picks an ephemeral port; the port is kept across [`SimPodm::restart`](crate::SimPodm::restart).
    pub port: u16,
    /// `None`: no authentication is required anywhere.
    pub credentials: Option<Credentials>,
    /// Idle time after which a Redfish session expires.
    pub session_timeout: Duration,
    /// Offer `SessionService` (advertised in the service root). Without it, session logins get 404.
    pub session_service: bool,
    /// Serve HTTPS with a certificate generated at start (see [`SimPodm::ca_pem`](crate::SimPodm::ca_pem)).
    pub tls: bool,
    /// The initial run-time behavior.
    pub behavior: Behavior,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            name: "podm-sim".to_owned(),
            version: RsdVersion::V2_3,
            systems: 8,
            seed: 1,
            pooled_drives: 4,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            credentials: None,
            session_timeout: Duration::from_secs(30 * 60),
            session_service: true,
            tls: false,
            behavior: Behavior::default(),
        }
    }
}

impl SimConfig {
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if self.systems > crate::inventory::MAX_SYSTEMS {
            return Err(SimError::config(
                "systems",
                format!(
                    "{} is more than the {} a simulated PODM holds",
                    self.systems,
                    crate::inventory::MAX_SYSTEMS
                ),
            ));
        }
        if self.pooled_drives > crate::inventory::MAX_POOLED_DRIVES {
            return Err(SimError::config(
                "pooled_drives",
                format!(
                    "{} is more than the {} a simulated PODM holds",
                    self.pooled_drives,
                    crate::inventory::MAX_POOLED_DRIVES
                ),
            ));
        }
        if self.session_timeout.is_zero() {
            return Err(SimError::config("session_timeout", "must be positive"));
        }
        self.behavior.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_print() {
        for v in RsdVersion::ALL {
            assert_eq!(v.to_string().parse::<RsdVersion>().unwrap(), v);
        }
        assert_eq!("v2.2.0".parse::<RsdVersion>().unwrap(), RsdVersion::V2_2);
        let err = "1.2".parse::<RsdVersion>().unwrap_err();
        assert!(err.to_string().contains("rsd_version"), "{err}");
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = Credentials::new("admin", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(c.matches("admin", "hunter2"));
        assert!(!c.matches("admin", "hunter3"));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let b = Behavior {
            hang_rate: 1.5,
            ..Behavior::default()
        };
        let err = b.validate().unwrap_err();
        assert!(err.to_string().contains("hang_rate"), "{err}");
        let b = Behavior {
            page_size: Some(0),
            ..Behavior::default()
        };
        assert!(b.validate().is_err());
    }
}
