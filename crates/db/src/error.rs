//! The crate's one error type.
//!
//! Policy: every failure leaves this crate as a [`DbError`] that says which entity, id, URL or
//! column is at fault, and is coarse enough for the API to map once to an HTTP status:
//! `NotFound`/`MarkerNotFound` -> 404/400, `Conflict`/`PodmHasNodes` -> 409,
//! `InvalidUrl`/`MissingDirectory` -> start-up failure, everything else -> 500.
//! Unique and foreign-key violations are recognised on both backends, so the API never has to
//! look at driver messages.

use std::fmt;
use std::path::PathBuf;

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind};
use uuid::Uuid;

/// What SQLite says when an ON DELETE RESTRICT foreign key refuses a delete.
const SQLITE_RESTRICT_MESSAGE: &str = "FOREIGN KEY constraint failed";

/// Which database engine a URL or connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A SQLite file (the default deployment).
    Sqlite,
    /// A PostgreSQL server (several Valence instances share it).
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// Which kind of integrity rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictKind {
    /// A UNIQUE or PRIMARY KEY constraint: the value is taken.
    Unique,
    /// A FOREIGN KEY: the row refers to a missing row, or rows still refer to it.
    ForeignKey,
}

impl fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConflictKind::Unique => "unique constraint",
            ConflictKind::ForeignKey => "foreign key",
        })
    }
}

/// Everything that can go wrong in the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No row with that id.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },

    /// A paging marker that names no existing row.
    #[error("marker {marker} is not an existing {entity}")]
    MarkerNotFound { entity: &'static str, marker: Uuid },

    /// A write broke a UNIQUE or FOREIGN KEY constraint.
    ///
    /// `constraint` uses PostgreSQL's naming on both backends (`pod_managers_name_key`,
    /// `nodes_podm_uuid_resource_uri_key`, `pod_managers_pkey`, `nodes_podm_uuid_fkey`); it is
    /// `None` for foreign keys on SQLite, which does not say which one failed.
    #[error("{entity} conflicts with existing data ({kind}): {detail}")]
    Conflict {
        entity: &'static str,
        kind: ConflictKind,
        constraint: Option<String>,
        detail: String,
    },

    /// A pod manager cannot be deleted while nodes on it are recorded.
    #[error("pod manager {podm_uuid} still has {count} node(s); release them first")]
    PodmHasNodes { podm_uuid: Uuid, count: i64 },

    /// The database URL is empty, has an unsupported scheme or is otherwise unusable.
    #[error("invalid database URL: {reason}")]
    InvalidUrl { reason: String },

    /// The directory that should hold the SQLite file does not exist (it is not created).
    #[error("directory `{}` for the SQLite database does not exist", .path.display())]
    MissingDirectory { path: PathBuf },

    /// The first connection could not be made.
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        backend: Backend,
        #[source]
        source: diesel::ConnectionError,
    },

    /// The schema migrations could not be applied.
    #[error("cannot apply migrations to the {backend} database: {reason}")]
    Migration { backend: Backend, reason: String },

    /// No pooled connection became available in time.
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),

    /// A stored value does not parse (e.g. a state spelling this version does not know).
    #[error("stored {entity}.{column} is invalid: {reason}")]
    InvalidStoredValue {
        entity: &'static str,
        column: &'static str,
        reason: String,
    },

    /// Any other failure of the database itself.
    #[error("database error on {entity}: {source}")]
    Query {
        entity: &'static str,
        #[source]
        source: diesel::result::Error,
    },

    /// The blocking task that ran the database work was cancelled (runtime shutting down).
    #[error("database task was cancelled")]
    TaskCancelled,
}

impl DbError {
    /// Classifies a diesel error raised while working on `entity` (a table's singular name).
    pub(crate) fn from_query(entity: &'static str, error: diesel::result::Error) -> DbError {
        match error {
            diesel::result::Error::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => DbError::Conflict {
                    entity,
                    kind: ConflictKind::Unique,
                    constraint: constraint_name(info.as_ref()),
                    detail: describe(info.as_ref()),
                },
                DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::RestrictViolation => {
                    DbError::Conflict {
                        entity,
                        kind: ConflictKind::ForeignKey,
                        constraint: constraint_name(info.as_ref()),
                        detail: describe(info.as_ref()),
                    }
                }
                // SQLite enforces ON DELETE RESTRICT with an internal trigger whose error
                // carries no foreign-key code, only this message.
                DatabaseErrorKind::Unknown if info.message() == SQLITE_RESTRICT_MESSAGE => {
                    DbError::Conflict {
                        entity,
                        kind: ConflictKind::ForeignKey,
                        constraint: None,
                        detail: describe(info.as_ref()),
                    }
                }
                other => DbError::Query {
                    entity,
                    source: diesel::result::Error::DatabaseError(other, info),
                },
            },
            other => DbError::Query {
                entity,
                source: other,
            },
        }
    }

    /// Whether this is a conflict of the given kind (for callers that retry or explain).
    pub fn is_conflict(&self, wanted: ConflictKind) -> bool {
        matches!(self, DbError::Conflict { kind, .. } if *kind == wanted)
    }
}

/// Lets `?` and diesel's `transaction` work on closures that return `DbError`.
impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        DbError::from_query("record", error)
    }
}

/// PostgreSQL names the constraint; SQLite only lists the columns of a UNIQUE failure
/// (`UNIQUE constraint failed: nodes.podm_uuid, nodes.resource_uri`), from which the
/// PostgreSQL default name is rebuilt so callers see one spelling.
fn constraint_name(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> Option<String> {
    if let Some(name) = info.constraint_name() {
        return Some(name.to_owned());
    }
    let columns = info.message().strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut names = Vec::new();
    for qualified in columns.split(',') {
        let (table_name, column) = qualified.trim().split_once('.')?;
        table.get_or_insert(table_name);
        names.push(column);
    }
    let table = table?;
    if names == ["uuid"] {
        Some(format!("{table}_pkey"))
    } else {
        Some(format!("{table}_{}_key", names.join("_")))
    }
}

fn describe(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> String {
    match info.details() {
        Some(details) => format!("{}: {details}", info.message()),
        None => info.message().to_owned(),
    }
}
