//! `valence serve`: builds the layers, runs migrations, serves the API until SIGINT/SIGTERM.

use std::net::SocketAddr;

use clap::Args;

/// Where Valence keeps its state.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH`, a bare file path, or `postgres://user:password@host:port/db`.
    #[arg(long, env = "VALENCE_DATABASE_URL", default_value = "valence.db")]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VALENCE_LISTEN", default_value = "127.0.0.1:8181")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// Timeouts and intervals of the server.
#[derive(Debug, Clone, Args)]
pub struct TuningArgs {
    /// Budget of one call to a PODM, retries included (seconds).
    #[arg(long, env = "VALENCE_PODM_TIMEOUT", default_value_t = 10.0)]
    pub podm_timeout: f64,
    /// Deadline of one PODM's part of a request over many PODMs (seconds).
    #[arg(long, env = "VALENCE_FANOUT_TIMEOUT", default_value_t = 5.0)]
    pub fanout_timeout: f64,
    /// How long a compose may wait for the PODM to assemble the node (seconds).
    #[arg(long, env = "VALENCE_COMPOSE_TIMEOUT", default_value_t = 600.0)]
    pub compose_timeout: f64,
    /// Inventory refresh interval (seconds).
    #[arg(long, env = "VALENCE_REFRESH_INTERVAL", default_value_t = 30.0)]
    pub refresh_interval: f64,
    /// Health check interval (seconds).
    #[arg(long, env = "VALENCE_HEALTH_INTERVAL", default_value_t = 10.0)]
    pub health_interval: f64,
    /// How long cached inventories are served (seconds).
    #[arg(long, env = "VALENCE_CACHE_TTL", default_value_t = 60.0)]
    pub cache_ttl: f64,
    /// Placement policy: spread (even use of PODMs) or pack (fill one PODM first).
    #[arg(long, env = "VALENCE_POLICY", default_value = "spread", value_parser = ["spread", "pack"])]
    pub policy: String,
}

fn seconds(value: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(value.clamp(0.001, 86_400.0))
}

impl TuningArgs {
    pub fn settings(&self) -> valence_api::Settings {
        let defaults = valence_api::Settings::default();
        valence_api::Settings {
            podm_request_timeout: seconds(self.podm_timeout),
            compose_timeout: seconds(self.compose_timeout),
            probe_timeout: seconds(self.fanout_timeout),
            aggregator: valence_redfish::AggregatorConfig {
                call_timeout: seconds(self.fanout_timeout),
                cache_ttl: seconds(self.cache_ttl),
                ..defaults.aggregator.clone()
            },
            policy: if self.policy == "pack" {
                valence_scheduler::Policy::Pack
            } else {
                valence_scheduler::Policy::Spread
            },
            ..defaults
        }
    }

    pub fn intervals(&self) -> valence_api::background::Intervals {
        valence_api::background::Intervals {
            refresh: seconds(self.refresh_interval),
            health: seconds(self.health_interval),
        }
    }

    /// How long shutdown waits for composes under way.
    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(30)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("database: {0}")]
    Database(#[from] valence_db::DbError),
    #[error("database set-up was interrupted: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Opens the database and applies pending migrations (blocking work, off the async workers).
pub async fn open_database(args: &DatabaseArgs) -> Result<valence_db::Db, ServeError> {
    let url = args.database_url.clone();
    let db = tokio::task::spawn_blocking(move || {
        valence_db::Db::connect(&url, &valence_db::DbOptions::default())
    })
    .await??;
    Ok(db)
}

/// `valence migrate`: applies pending migrations and exits.
pub async fn migrate(args: DatabaseArgs) -> Result<(), ServeError> {
    let db = open_database(&args).await?;
    println!("database is up to date ({})", db.backend());
    Ok(())
}

pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let db = open_database(&args.database).await?;
    tracing::info!(backend = %db.backend(), "database ready");
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: args.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    let settings = valence_api::Settings {
        public_host: local.to_string(),
        ..args.tuning.settings()
    };
    let state = valence_api::AppState::new(db, settings);
    let background =
        valence_api::background::Background::spawn(state.clone(), args.tuning.intervals());
    tracing::info!(%local, "Valence API listening");
    // One plain line on stdout so scripts and tests learn the port when listening on port 0.
    println!("listening on http://{local}");
    let tasks = state.tasks.clone();
    // The API (/v1) and the web console (/ui) share one router, so a future auth layer wraps both.
    let app = valence_api::router(state.clone()).merge(valence_web::router(state));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServeError::Serve)?;
    background.shutdown().await;
    tasks.close();
    if tokio::time::timeout(args.tuning.shutdown_grace(), tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            pending = tasks.len(),
            "stopping with composes still running; they are resumed or cleaned up at the next start"
        );
    }
    tracing::info!("Valence stopped");
    Ok(())
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
