//! The one connection type for both backends, how a connection is opened (SQLite pragmas
//! included) and the r2d2 manager that opens pooled ones the same way.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::{Backend, DbError};
use crate::target::DatabaseTarget;

/// A connection to either backend; every repository function takes `&mut DbConnection`.
///
/// Match on it only for what `MultiConnection` cannot express (backend-specific SQL).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Postgresql(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// The backend behind this connection.
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgresql(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Opens one connection to `target`. SQLite connections get `foreign_keys`, `busy_timeout` and
/// WAL here, so that every connection (pooled or not) enforces the same rules.
pub fn establish(target: &DatabaseTarget, busy_timeout: Duration) -> Result<DbConnection, DbError> {
    match target {
        DatabaseTarget::Sqlite { path } => {
            if let Some(parent) = path.parent()
                && !parent.as_os_str().is_empty()
                && !parent.is_dir()
            {
                return Err(DbError::MissingDirectory {
                    path: parent.to_path_buf(),
                });
            }
            let path_text = path.to_str().ok_or_else(|| DbError::InvalidUrl {
                reason: format!("SQLite path `{}` is not valid UTF-8", path.display()),
            })?;
            let mut connection =
                SqliteConnection::establish(path_text).map_err(|source| DbError::Connect {
                    backend: Backend::Sqlite,
                    source,
                })?;
            // busy_timeout first: switching to WAL needs a lock that another connection may hold.
            connection
                .batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                    busy_timeout.as_millis()
                ))
                .map_err(|source| DbError::from_query("connection settings", source))?;
            Ok(DbConnection::Sqlite(connection))
        }
        DatabaseTarget::Postgres { url } => PgConnection::establish(url)
            .map(DbConnection::Postgresql)
            .map_err(|source| DbError::Connect {
                backend: Backend::Postgres,
                source,
            }),
    }
}

/// r2d2 manager that opens connections with [`establish`] (not diesel's derived `establish`,
/// which guesses the backend).
#[derive(Debug)]
pub struct DbConnectionManager {
    target: DatabaseTarget,
    sqlite_busy_timeout: Duration,
}

impl DbConnectionManager {
    /// A manager for `target`; `sqlite_busy_timeout` is how long a SQLite writer waits for the lock.
    pub fn new(target: DatabaseTarget, sqlite_busy_timeout: Duration) -> Self {
        DbConnectionManager {
            target,
            sqlite_busy_timeout,
        }
    }
}

impl r2d2::ManageConnection for DbConnectionManager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        establish(&self.target, self.sqlite_busy_timeout)
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), DbError> {
        connection
            .ping()
            .map_err(|source| DbError::from_query("connection check", source))
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        connection.is_broken()
    }
}
