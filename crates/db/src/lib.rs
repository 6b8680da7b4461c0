//! Database layer: diesel models, embedded migrations and typed repositories over SQLite or PostgreSQL.
//!
//! One code path serves both backends through [`DbConnection`] (a diesel `MultiConnection`);
//! the URL scheme picks the backend ([`DatabaseTarget::parse`]). Repository functions live in
//! one module per table ([`pod_managers`], [`nodes`], [`flavors`], [`devices`]) and take
//! `&mut DbConnection`, so they run on a pooled connection or inside a caller's transaction
//! ([`Db::run`], [`Db::transaction`]). Rows are not API types: they are never serialised to
//! clients (the PODM password only leaves through [`PasswordSecret::expose`]).

mod connection;
mod error;
mod migrations;
mod paging;
mod pool;
mod schema;
mod target;
mod types;

pub mod devices;
pub mod flavors;
pub mod instances;
pub mod nodes;
pub mod pod_managers;

pub use connection::{DbConnection, DbConnectionManager, MultiBackend, establish};
pub use error::{Backend, ConflictKind, DbError};
pub use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, run_pending as run_migrations};
pub use paging::Page;
pub use pool::{Db, DbOptions, PoolObserver, PoolState, PooledDbConnection};
pub use target::DatabaseTarget;
pub use types::{
    AuthType, Driver, ManagedBy, NodeState, PasswordSecret, PodmState, PodmStatus, UnknownVariant,
    truncate_to_micros, utc_now,
};

pub use devices::{Device, DeviceFilter, DeviceUpdate, NewDevice};
pub use flavors::{Flavor, FlavorFilter, FlavorUpdate, NewFlavor};
pub use nodes::{NewNode, Node, NodeCounts, NodeFilter, NodeProgress, NodeUpdate};
pub use pod_managers::{Health, NewPodManager, PodManager, PodManagerFilter, PodManagerUpdate};
