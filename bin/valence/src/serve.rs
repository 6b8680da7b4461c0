//! `valence serve`: builds the layers, runs migrations, serves the API until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::config::{Config, ConfigError, LogFormat, Policy};

/// Where the configuration comes from: a TOML file, then environment variables and flags.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see docs/CONFIGURATION.md); every key is optional.
    #[arg(long, short = 'c', env = "VALENCE_CONFIG")]
    pub config: Option<PathBuf>,
    /// `sqlite://PATH`, a bare file path, or `postgres://user:password@host:port/db`
    /// [default: valence.db]
    #[arg(long, env = "VALENCE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl ConfigArgs {
    /// File (if any) over defaults, then the overrides given here.
    pub fn load(&self) -> Result<Config, ServeError> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(url) = &self.database_url {
            config.database.url = url.clone();
        }
        Ok(config)
    }
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  valence serve\n  valence serve --listen 0.0.0.0:8181 --database-url postgres://valence:secret@db/valence\n  valence serve --config /etc/valence/valence.toml"
)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on [default: 127.0.0.1:8181]
    #[arg(long, env = "VALENCE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// API token file (see `valence token create`); without it the API is open and loopback-only
    #[arg(long, env = "VALENCE_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (with --tls-key)
    #[arg(long, env = "VALENCE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, env = "VALENCE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Log format [default: text]
    #[arg(long, env = "VALENCE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Budget of one call to a PODM, retries included (e.g. 10s) [default: 10s]
    #[arg(long, env = "VALENCE_PODM_TIMEOUT", value_parser = parse_duration)]
    pub podm_timeout: Option<std::time::Duration>,
    /// Deadline of one PODM's part of a request over many PODMs [default: 5s]
    #[arg(long, env = "VALENCE_FANOUT_TIMEOUT", value_parser = parse_duration)]
    pub fanout_timeout: Option<std::time::Duration>,
    /// How long a compose may wait for the PODM to assemble the node [default: 10m]
    #[arg(long, env = "VALENCE_COMPOSE_TIMEOUT", value_parser = parse_duration)]
    pub compose_timeout: Option<std::time::Duration>,
    /// Inventory refresh interval [default: 30s]
    #[arg(long, env = "VALENCE_REFRESH_INTERVAL", value_parser = parse_duration)]
    pub refresh_interval: Option<std::time::Duration>,
    /// How long cached inventories are served [default: 60s]
    #[arg(long, env = "VALENCE_CACHE_TTL", value_parser = parse_duration)]
    pub cache_ttl: Option<std::time::Duration>,
    /// Health check interval [default: 10s]
    #[arg(long, env = "VALENCE_HEALTH_INTERVAL", value_parser = parse_duration)]
    pub health_interval: Option<std::time::Duration>,
    /// Placement policy [default: spread]
    #[arg(long, env = "VALENCE_POLICY", value_enum)]
    pub policy: Option<PolicyArg>,
}

/// A duration as `500ms`, `10s`, `5m`, or a bare number of seconds (`0.5`).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 {
            Ok(std::time::Duration::from_secs_f64(seconds))
        } else {
            Err(format!("{text:?} is not a positive number of seconds"))
        };
    }
    humantime::parse_duration(text)
        .map_err(|err| format!("{text:?}: {err} (examples: 500ms, 10s, 5m)"))
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PolicyArg {
    Spread,
    Pack,
}

impl ServeArgs {
    /// The effective configuration: defaults, then the file, then environment and flags.
    pub fn effective_config(&self) -> Result<Config, ServeError> {
        let mut config = self.config.load()?;
        if let Some(listen) = self.listen {
            config.server.listen = listen;
        }
        if let Some(file) = &self.token_file {
            config.server.token_file = Some(file.clone());
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            config.server.tls_cert = Some(cert.clone());
            config.server.tls_key = Some(key.clone());
        }
        if let Some(format) = self.log_format {
            config.logging.format = format;
        }
        let set = |target: &mut std::time::Duration, value: Option<std::time::Duration>| {
            if let Some(v) = value {
                *target = v;
            }
        };
        set(&mut config.podm.request_timeout, self.podm_timeout);
        set(&mut config.podm.fanout_timeout, self.fanout_timeout);
        set(&mut config.podm.compose_timeout, self.compose_timeout);
        set(
            &mut config.inventory.refresh_interval,
            self.refresh_interval,
        );
        set(&mut config.inventory.cache_ttl, self.cache_ttl);
        set(&mut config.health.interval, self.health_interval);
        if let Some(policy) = self.policy {
            config.scheduler.policy = match policy {
                PolicyArg::Spread => Policy::Spread,
                PolicyArg::Pack => Policy::Pack,
            };
        }
        config.validate()?;
        Ok(config)
    }
}

/// Sets up logging: `RUST_LOG` wins over the configured level.
pub fn init_logging(config: &crate::config::LoggingConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.level));
    // Colours only on a terminal: journald and log collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match config.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Database(#[from] valence_db::DbError),
    #[error("database set-up was interrupted: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Tokens(#[from] valence_api::auth::TokenFileError),
    #[error(transparent)]
    TokenCommand(#[from] crate::token::TokenError),
    #[error(
        "refusing to listen on {addr} without API tokens: anyone who reaches it could control every pod manager. Create tokens (valence token create) and set server.token_file, or listen on a loopback address such as 127.0.0.1"
    )]
    OpenOnNetwork { addr: SocketAddr },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Opens the database and applies pending migrations (blocking work, off the async workers).
pub async fn open_database(config: &Config) -> Result<valence_db::Db, ServeError> {
    open_database_observed(config, None).await
}

/// As [`open_database`], the pool reporting its use to `observer` (the server's metrics).
async fn open_database_observed(
    config: &Config,
    observer: Option<std::sync::Arc<dyn valence_db::PoolObserver>>,
) -> Result<valence_db::Db, ServeError> {
    let url = config.database.url.clone();
    let options = valence_db::DbOptions {
        max_connections: config.database.max_connections,
        ..Default::default()
    };
    let db = tokio::task::spawn_blocking(move || {
        valence_db::Db::connect_observed(&url, &options, observer)
    })
    .await??;
    Ok(db)
}

/// `valence config check`: the effective configuration, secrets masked, or what is wrong.
pub fn check_config(args: &ServeArgs) -> Result<(), ServeError> {
    let config = args.effective_config()?;
    print!("{}", config.to_masked_toml()?);
    Ok(())
}

/// `valence secrets rotate`: reseals every PODM password under the current key.
pub async fn rotate_secrets(args: MigrateArgs) -> Result<(), ServeError> {
    let config = args.config.load()?;
    let secrets = config.secret_box()?;
    if !secrets.is_sealing() {
        return Err(ConfigError::Secret(
            "no current key: set secrets.key_file or VALENCE_SECRET_KEY".into(),
        )
        .into());
    }
    let db = open_database(&config).await?;
    let resealed = db
        .transaction(move |conn| {
            let mut resealed = 0usize;
            for row in valence_db::pod_managers::list(
                conn,
                &Default::default(),
                valence_db::Page::default(),
            )? {
                let Some(stored) = &row.password_secret else {
                    continue;
                };
                if !secrets.needs_reseal(stored.expose()) {
                    continue;
                }
                let plain = secrets.open(stored.expose()).map_err(|e| {
                    valence_db::DbError::InvalidStoredValue {
                        entity: "pod manager",
                        column: "password_secret",
                        reason: format!("{}: {e}", row.name),
                    }
                })?;
                let sealed = secrets
                    .seal(secrecy::ExposeSecret::expose_secret(&plain))
                    .map_err(|e| valence_db::DbError::InvalidStoredValue {
                        entity: "pod manager",
                        column: "password_secret",
                        reason: e.to_string(),
                    })?;
                let changes = valence_db::PodManagerUpdate {
                    password_secret: Some(Some(valence_db::PasswordSecret::new(sealed))),
                    ..Default::default()
                };
                valence_db::pod_managers::update(conn, row.uuid, &changes)?;
                resealed += 1;
            }
            Ok(resealed)
        })
        .await?;
    println!("resealed {resealed} password(s) under the current key");
    Ok(())
}

/// `valence migrate`: applies pending migrations and exits.
pub async fn migrate(args: MigrateArgs) -> Result<(), ServeError> {
    let config = args.config.load()?;
    let db = open_database(&config).await?;
    println!("database is up to date ({})", db.backend());
    Ok(())
}

pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let config = match args.effective_config() {
        Ok(config) => config,
        Err(err) => {
            init_logging(&crate::config::LoggingConfig::default());
            return Err(err);
        }
    };
    init_logging(&config.logging);
    let metrics = std::sync::Arc::new(valence_api::metrics::Metrics::new());
    let pool_metrics = valence_api::metrics::db::PoolMetrics(metrics.clone());
    let db = open_database_observed(&config, Some(std::sync::Arc::new(pool_metrics))).await?;
    tracing::info!(backend = %db.backend(), database = %crate::config::mask_url_password(&config.database.url), "database ready");
    let auth = load_tokens(&config)?;
    let tls = load_tls(&config)?;
    let listen = config.server.listen;
    let listener = std::net::TcpListener::bind(listen).map_err(|source| ServeError::Bind {
        addr: listen,
        source,
    })?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    let secrets = config.secret_box()?;
    if !secrets.is_sealing() {
        tracing::warn!(
            "no secret key configured: PODM passwords are stored as given (see secrets.key_file)"
        );
    }
    let state = valence_api::AppState::new(db, config.settings(local.to_string()))
        .with_auth(auth)
        .with_secrets(secrets)
        .with_metrics(metrics);
    let background = valence_api::background::Background::spawn(state.clone(), config.intervals());
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%local, %scheme, "Valence API listening");
    // One plain line on stdout so scripts and tests learn the port when listening on port 0.
    println!("listening on {scheme}://{local}");
    let tasks = state.tasks.clone();
    let instance = state.clone();
    // The web console under /ui, beside the API, behind the same token check.
    let app = valence_api::router(state.clone())
        .merge(valence_web::router(state))
        .into_make_service();
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        // In-flight requests get a few seconds; composes are waited for below.
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    match tls {
        Some(tls) => {
            axum_server::from_tcp_rustls(
                listener,
                axum_server::tls_rustls::RustlsConfig::from_config(tls),
            )
            .map_err(ServeError::Serve)?
            .handle(handle)
            .serve(app)
            .await
        }
        None => {
            axum_server::from_tcp(listener)
                .map_err(ServeError::Serve)?
                .handle(handle)
                .serve(app)
                .await
        }
    }
    .map_err(ServeError::Serve)?;
    background.shutdown().await;
    tasks.close();
    if tokio::time::timeout(config.server.shutdown_grace, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            pending = tasks.len(),
            "stopping with composes still running; they are resumed or cleaned up at the next start"
        );
    }
    valence_api::service::recovery::sign_off(&instance).await;
    tracing::info!("Valence stopped");
    Ok(())
}

/// API tokens from the token file; without one the API may only listen on loopback.
fn load_tokens(config: &Config) -> Result<valence_api::auth::Authenticator, ServeError> {
    let file = match &config.server.token_file {
        Some(path) => valence_api::auth::TokenFile::read(path)?,
        None => valence_api::auth::TokenFile::default(),
    };
    let auth = valence_api::auth::Authenticator::from_file(&file);
    if auth.is_enabled() {
        tracing::info!(tokens = file.tokens.len(), "API tokens required");
    } else if config.server.listen.ip().is_loopback() {
        tracing::warn!(
            "no API tokens configured: the API is open to every local user, so it listens on loopback only"
        );
    } else {
        return Err(ServeError::OpenOnNetwork {
            addr: config.server.listen,
        });
    }
    Ok(auth)
}

/// The server's TLS configuration from PEM files (ring provider, as everywhere in Valence).
fn load_tls(config: &Config) -> Result<Option<std::sync::Arc<rustls::ServerConfig>>, ServeError> {
    use rustls_pki_types::pem::PemObject;
    let (Some(cert_path), Some(key_path)) = (&config.server.tls_cert, &config.server.tls_key)
    else {
        return Ok(None);
    };
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("server.tls_cert {}: {e}", cert_path.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "server.tls_cert {}: no certificate in the file",
            cert_path.display()
        )));
    }
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| ServeError::Tls(format!("server.tls_key {}: {e}", key_path.display())))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(format!("certificate and key do not work together: {e}")))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(std::sync::Arc::new(server)))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
