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
    let state = valence_api::AppState {
        db,
        public_host: local.to_string(),
        public_scheme: "http",
    };
    tracing::info!(%local, "Valence API listening");
    // One plain line on stdout so scripts and tests learn the port when listening on port 0.
    println!("listening on http://{local}");
    axum::serve(listener, valence_api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServeError::Serve)?;
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
