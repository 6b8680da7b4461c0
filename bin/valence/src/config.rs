//! The server's configuration: a TOML file (every key optional), overridden by environment
//! variables and flags, over built-in defaults. Unknown keys are errors, not silently ignored.
//!
//! docs/CONFIGURATION.md lists every key; keep it in step with [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub podm: PodmConfig,
    pub inventory: InventoryConfig,
    pub health: HealthConfig,
    pub scheduler: SchedulerConfig,
    pub logging: LoggingConfig,
    pub secrets: SecretsConfig,
}

/// Keys that seal PODM passwords at rest (docs/OPERATIONS.md: rotation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// File holding the current key (base64 of 32 bytes, from `valence secrets generate-key`).
    /// `VALENCE_SECRET_KEY` (the key itself) takes precedence.
    pub key_file: Option<PathBuf>,
    /// Earlier keys, still accepted for opening until `valence secrets rotate` has run.
    pub previous_key_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// How long shutdown waits for composes under way.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// API tokens (made with `valence token create`). Without tokens the API is open and may
    /// only listen on a loopback address.
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain and private key: serve HTTPS instead of HTTP.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Requests served at once; more are answered 503.
    pub max_concurrent_requests: usize,
    /// How long a rendered `GET /v1/pod_managers` answer is reused; any write through this
    /// server drops it at once. Zero renders every request.
    #[serde(with = "humantime_serde")]
    pub list_cache_ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH`, a bare path, or `postgres://...`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PodmConfig {
    /// Budget of one HTTP call to a PODM, retries included.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// How long a compose may wait for the PODM to assemble the node.
    #[serde(with = "humantime_serde")]
    pub compose_timeout: Duration,
    /// Deadline of one PODM's part of a request over many PODMs (and of a probe).
    #[serde(with = "humantime_serde")]
    pub fanout_timeout: Duration,
    /// PODMs asked at the same time by a request over many PODMs.
    pub fanout_concurrency: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventoryConfig {
    /// How long a PODM's inventory is served from cache.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// How often the background refresh re-reads every PODM (keep it below `cache_ttl`).
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
    /// How long a system's hardware details are reused between reads (zero: never).
    #[serde(with = "humantime_serde")]
    pub details_ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Consecutive failures after which an online PODM is `Offline` (its breaker opens).
    pub failures_to_offline: u32,
    /// First wait before probing an offline PODM again; doubles up to `max_backoff`.
    #[serde(with = "humantime_serde")]
    pub base_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Spread,
    Pack,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// `spread` (even use of PODMs) or `pack` (fill one PODM first).
    pub policy: Policy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// A `RUST_LOG`-style filter; `RUST_LOG` wins when set.
    pub level: String,
    pub format: LogFormat,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8181)),
            shutdown_grace: Duration::from_secs(30),
            token_file: None,
            tls_cert: None,
            tls_key: None,
            max_concurrent_requests: 1024,
            list_cache_ttl: Duration::from_secs(1),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "valence.db".into(),
            max_connections: 10,
        }
    }
}

impl Default for PodmConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            compose_timeout: Duration::from_secs(600),
            fanout_timeout: Duration::from_secs(5),
            fanout_concurrency: 256,
        }
    }
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(60),
            refresh_interval: Duration::from_secs(30),
            details_ttl: Duration::from_secs(600),
        }
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            failures_to_offline: 3,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            policy: Policy::Spread,
        }
    }
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("secrets: {0}")]
    Secret(String),
    #[error("configuration: {key}: {detail}")]
    Invalid { key: &'static str, detail: String },
}

impl Config {
    /// Reads `path`; every key is optional, unknown keys are refused with their name and line.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|detail| ConfigError::Parse {
            path: path.to_owned(),
            detail,
        })
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|err| err.to_string().trim().to_owned())
    }

    /// Checks what types cannot: durations and counts that would not work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("podm.request_timeout", self.podm.request_timeout),
            ("podm.connect_timeout", self.podm.connect_timeout),
            ("podm.compose_timeout", self.podm.compose_timeout),
            ("podm.fanout_timeout", self.podm.fanout_timeout),
            ("inventory.cache_ttl", self.inventory.cache_ttl),
            (
                "inventory.refresh_interval",
                self.inventory.refresh_interval,
            ),
            ("health.interval", self.health.interval),
            ("health.base_backoff", self.health.base_backoff),
            ("health.max_backoff", self.health.max_backoff),
        ];
        for (key, value) in positive {
            if value.is_zero() {
                return Err(ConfigError::Invalid {
                    key,
                    detail: "must be greater than zero".into(),
                });
            }
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return Err(ConfigError::Invalid {
                key: "server.tls_cert",
                detail: "give both server.tls_cert and server.tls_key, or neither".into(),
            });
        }
        if self.server.max_concurrent_requests == 0 {
            return Err(ConfigError::Invalid {
                key: "server.max_concurrent_requests",
                detail: "must be at least 1".into(),
            });
        }
        if self.podm.fanout_concurrency == 0 {
            return Err(ConfigError::Invalid {
                key: "podm.fanout_concurrency",
                detail: "must be at least 1".into(),
            });
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.max_connections",
                detail: "must be at least 1".into(),
            });
        }
        if self.health.failures_to_offline == 0 {
            return Err(ConfigError::Invalid {
                key: "health.failures_to_offline",
                detail: "must be at least 1".into(),
            });
        }
        if self.health.max_backoff < self.health.base_backoff {
            return Err(ConfigError::Invalid {
                key: "health.max_backoff",
                detail: "must not be shorter than health.base_backoff".into(),
            });
        }
        if self.inventory.refresh_interval >= self.inventory.cache_ttl {
            tracing::warn!(
                "inventory.refresh_interval is not below inventory.cache_ttl: cached inventories will expire before they are refreshed"
            );
        }
        Ok(())
    }

    /// The configuration as TOML with secrets masked (the database password).
    pub fn to_masked_toml(&self) -> Result<String, ConfigError> {
        let mut shown = self.clone();
        shown.database.url = mask_url_password(&shown.database.url);
        toml::to_string_pretty(&shown).map_err(|err| ConfigError::Invalid {
            key: "configuration",
            detail: err.to_string(),
        })
    }

    /// What the API layer runs with.
    pub fn settings(&self, public_host: String) -> valence_api::Settings {
        valence_api::Settings {
            podm_request_timeout: self.podm.request_timeout,
            podm_connect_timeout: self.podm.connect_timeout,
            compose_timeout: self.podm.compose_timeout,
            probe_timeout: self.podm.fanout_timeout,
            details_ttl: self.inventory.details_ttl,
            aggregator: valence_redfish::AggregatorConfig {
                concurrency: self.podm.fanout_concurrency,
                call_timeout: self.podm.fanout_timeout,
                cache_ttl: self.inventory.cache_ttl,
                health: valence_redfish::HealthPolicy {
                    failures_to_open: self.health.failures_to_offline,
                    base_backoff: self.health.base_backoff,
                    max_backoff: self.health.max_backoff,
                },
            },
            policy: match self.scheduler.policy {
                Policy::Spread => valence_scheduler::Policy::Spread,
                Policy::Pack => valence_scheduler::Policy::Pack,
            },
            public_host,
            public_scheme: if self.server.tls_cert.is_some() {
                "https"
            } else {
                "http"
            },
            max_concurrent_requests: self.server.max_concurrent_requests,
            list_cache_ttl: self.server.list_cache_ttl,
        }
    }

    /// The keys that seal PODM passwords: `VALENCE_SECRET_KEY`, else `secrets.key_file`.
    pub fn secret_box(&self) -> Result<valence_api::secrets::SecretBox, ConfigError> {
        use valence_api::secrets::{SecretBox, SecretKey};
        let read = |path: &Path| -> Result<SecretKey, ConfigError> {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            SecretKey::from_base64(&text)
                .map_err(|e| ConfigError::Secret(format!("{}: {e}", path.display())))
        };
        let current = match std::env::var("VALENCE_SECRET_KEY") {
            Ok(text) if !text.trim().is_empty() => Some(
                SecretKey::from_base64(&text)
                    .map_err(|e| ConfigError::Secret(format!("VALENCE_SECRET_KEY: {e}")))?,
            ),
            _ => self.secrets.key_file.as_deref().map(read).transpose()?,
        };
        let previous = self
            .secrets
            .previous_key_files
            .iter()
            .map(|p| read(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SecretBox::new(current, previous))
    }

    pub fn intervals(&self) -> valence_api::background::Intervals {
        valence_api::background::Intervals {
            refresh: self.inventory.refresh_interval,
            health: self.health.interval,
        }
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:********@host/db`.
pub fn mask_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            if parsed.set_password(Some("********")).is_ok() {
                parsed.to_string()
            } else {
                "<unprintable URL>".into()
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn keys_override_defaults_and_durations_read_as_text() {
        let config = Config::from_toml(
            "[podm]\nrequest_timeout = \"2s\"\n[inventory]\nrefresh_interval = \"1m\"\n[scheduler]\npolicy = \"pack\"\n",
        )
        .unwrap();
        assert_eq!(config.podm.request_timeout, Duration::from_secs(2));
        assert_eq!(config.inventory.refresh_interval, Duration::from_secs(60));
        assert_eq!(config.scheduler.policy, Policy::Pack);
        assert_eq!(config.health, HealthConfig::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_naming_them() {
        let err = Config::from_toml("[podm]\nrequest_timout = \"2s\"\n").unwrap_err();
        assert!(err.contains("request_timout"), "{err}");
        let err = Config::from_toml("[colour]\n").unwrap_err();
        assert!(err.contains("colour"), "{err}");
        let err = Config::from_toml("[podm]\nrequest_timeout = \"soon\"\n").unwrap_err();
        assert!(
            err.contains("request_timeout") || err.contains("soon"),
            "{err}"
        );
        let zero = Config::from_toml("[health]\ninterval = \"0s\"\n").unwrap();
        assert!(
            zero.validate()
                .unwrap_err()
                .to_string()
                .contains("health.interval")
        );
    }

    #[test]
    fn the_database_password_is_masked() {
        let mut config = Config::default();
        config.database.url = "postgres://valence:s3cr3t@db:5432/valence".into();
        let shown = config.to_masked_toml().unwrap();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("postgres://valence:********@db:5432/valence"),
            "{shown}"
        );
        // the masked text reads back as a configuration
        assert!(Config::from_toml(&shown).is_ok());
    }
}
