//! The `Db` handle: a pool of connections, migrations at start-up, and the bridge that runs
//! blocking diesel work from async code on `spawn_blocking`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use diesel::Connection;
use diesel::r2d2::R2D2Connection;

use crate::connection::{DbConnection, DbConnectionManager, establish};
use crate::error::{Backend, DbError};
use crate::migrations;
use crate::target::DatabaseTarget;

/// A connection borrowed from the pool; derefs to [`DbConnection`].
pub type PooledDbConnection = r2d2::PooledConnection<DbConnectionManager>;

/// Pool and connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Connections kept open while idle (`None`: as many as `max_connections`).
    pub min_idle: Option<u32>,
    /// How long `get` waits for a free connection before failing.
    pub connection_timeout: Duration,
    /// How long a SQLite writer waits for another writer's lock before failing.
    pub sqlite_busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 10,
            min_idle: Some(1),
            connection_timeout: Duration::from_secs(30),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Told how the pool is used, for metrics. The layer above implements it; this crate stays free of
/// any metrics library.
pub trait PoolObserver: Send + Sync + 'static {
    /// A connection was handed out after waiting `waited` for it.
    fn checked_out(&self, waited: Duration);
    /// A connection came back after being held for `held` (one unit of work: a statement or a
    /// transaction, see [`Db::run`]).
    fn checked_in(&self, held: Duration);
    /// No connection became free within the pool's `connection_timeout`.
    fn timed_out(&self, waited: Duration);
}

/// Connections of the pool right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections, in use or idle.
    pub connections: u32,
    pub idle: u32,
    /// Most connections the pool opens.
    pub max_connections: u32,
}

impl PoolState {
    pub fn in_use(&self) -> u32 {
        self.connections.saturating_sub(self.idle)
    }
}

/// Forwards r2d2's pool events to a [`PoolObserver`].
struct ObserverEvents(Arc<dyn PoolObserver>);

impl fmt::Debug for ObserverEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObserverEvents")
    }
}

impl r2d2::HandleEvent for ObserverEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        self.0.checked_out(event.duration());
    }

    fn handle_checkin(&self, event: r2d2::event::CheckinEvent) {
        self.0.checked_in(event.duration());
    }

    fn handle_timeout(&self, event: r2d2::event::TimeoutEvent) {
        self.0.timed_out(event.timeout());
    }
}

/// Handle on the database: cheap to clone, shared by every request.
///
/// Repository functions take `&mut DbConnection`; run them with [`Db::run`] (one statement or a
/// few independent ones) or [`Db::transaction`] (all or nothing), or get a connection with
/// [`Db::get`] in blocking code (CLI, tests).
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<DbConnectionManager>,
    backend: Backend,
    /// SQLite has one writer at a time: this process's transactions take turns here rather
    /// than in SQLite's busy handler, which polls with sleeps. Transactions also begin
    /// IMMEDIATE (see `in_transaction`) for the writes made outside them. Unused on PostgreSQL.
    sqlite_writer: Arc<std::sync::Mutex<()>>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.pool.state();
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .field("connections", &state.connections)
            .field("idle_connections", &state.idle_connections)
            .finish()
    }
}

impl Db {
    /// Opens the database named by `url`, applies pending migrations and builds the pool.
    ///
    /// Blocking: call it before serving, or from `spawn_blocking`.
    pub fn connect(url: &str, options: &DbOptions) -> Result<Db, DbError> {
        Self::connect_observed(url, options, None)
    }

    /// As [`Db::connect`], telling `observer` (if any) of every checkout, checkin and timeout
    /// of the pool.
    pub fn connect_observed(
        url: &str,
        options: &DbOptions,
        observer: Option<Arc<dyn PoolObserver>>,
    ) -> Result<Db, DbError> {
        let target = DatabaseTarget::parse(url)?;
        let backend = target.backend();
        // A direct first connection reports the real cause (r2d2 would only time out).
        let mut first = establish(&target, options.sqlite_busy_timeout)?;
        let applied = migrations::run_pending(&mut first)?;
        if !applied.is_empty() {
            tracing::info!(%backend, versions = ?applied, "applied database migrations");
        }
        drop(first);
        let manager = DbConnectionManager::new(target, options.sqlite_busy_timeout);
        let mut builder = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(options.min_idle)
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(false);
        if let Some(observer) = observer {
            builder = builder.event_handler(Box::new(ObserverEvents(observer)));
        }
        let pool = builder.build(manager)?;
        Ok(Db {
            pool,
            backend,
            sqlite_writer: Arc::default(),
        })
    }

    /// Which backend this database is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many connections are open and idle (for metrics and diagnostics).
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max_connections: self.pool.max_size(),
        }
    }

    /// A pooled connection for blocking code. Do not call it on an async worker thread.
    pub fn get(&self) -> Result<PooledDbConnection, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    ///
    /// A panic inside `work` is resumed in the caller.
    pub async fn run<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut connection = pool.get()?;
            work(&mut connection)
        })
        .await;
        match outcome {
            Ok(result) => result,
            Err(join_error) if join_error.is_panic() => {
                std::panic::resume_unwind(join_error.into_panic())
            }
            Err(_) => Err(DbError::TaskCancelled),
        }
    }

    /// Runs `work` in one transaction: committed if it returns `Ok`, rolled back on `Err` or
    /// panic. Repository functions called inside nest as savepoints.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = (self.backend == Backend::Sqlite).then(|| self.sqlite_writer.clone());
        self.run(move |connection| {
            let _turn = writer
                .as_ref()
                .map(|w| w.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            in_transaction(connection, work)
        })
        .await
    }

    /// Checks that a connection can be had and answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|connection| {
            connection
                .ping()
                .map_err(|source| DbError::from_query("connection check", source))
        })
        .await
    }
}

/// Runs `work` in a transaction of `connection`. On SQLite it begins `IMMEDIATE`, taking the
/// write lock first: a deferred transaction that has read fails at once with "database is
/// locked" when another connection wrote meanwhile (the busy timeout does not apply to it),
/// which the writer mutex cannot prevent for writes made outside transactions.
fn in_transaction<T, F>(connection: &mut DbConnection, work: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};

    let DbConnection::Sqlite(sqlite) = connection else {
        return connection.transaction(work);
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let outcome = work(connection);
    // `work` may only have used the connection; it is still the SQLite one.
    let DbConnection::Sqlite(sqlite) = connection else {
        return outcome;
    };
    match outcome {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite)?;
            Ok(value)
        }
        Err(err) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(err)
        }
    }
}
