//! Test harness: a fresh database per test, on a SQLite file in a temporary directory or on
//! PostgreSQL (its own randomly named database, dropped afterwards, also after a panic).

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tempfile::TempDir;
use valence_db::{
    AuthType, Backend, Db, DbOptions, Driver, ManagedBy, NewNode, NewPodManager, NodeState,
    PasswordSecret, PooledDbConnection,
};

/// The variable naming an administrative PostgreSQL URL (a database that may create others).
pub const POSTGRES_URL_VARIABLE: &str = "VALENCE_TEST_DATABASE_URL";

/// A database created for one test.
pub struct TestDb {
    pub db: Db,
    /// The URL the test database was opened with (to open a second pool on it).
    pub url: String,
    pub backend: Backend,
    _cleanup: Cleanup,
}

impl TestDb {
    /// A pooled connection.
    pub fn conn(&self) -> PooledDbConnection {
        self.db.get().expect("pooled connection")
    }

    /// A second, independent pool on the same database (another Valence instance).
    pub fn second_pool(&self) -> Db {
        Db::connect(&self.url, &options()).expect("second pool")
    }
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] TempDir),
    Postgres { admin_url: String, database: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = self
        {
            // FORCE ends the connections the test's pools still hold.
            match PgConnection::establish(admin_url) {
                Ok(mut admin) => {
                    if let Err(error) = admin.batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    )) {
                        eprintln!("could not drop test database {database}: {error}");
                    }
                }
                Err(error) => eprintln!("could not drop test database {database}: {error}"),
            }
        }
    }
}

pub fn options() -> DbOptions {
    DbOptions {
        max_connections: 8,
        min_idle: Some(1),
        ..DbOptions::default()
    }
}

/// Runs `test` on a new SQLite file.
pub fn on_sqlite(test: fn(&TestDb)) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", directory.path().join("valence.db").display());
    let db = Db::connect(&url, &options()).expect("open SQLite test database");
    test(&TestDb {
        db,
        url,
        backend: Backend::Sqlite,
        _cleanup: Cleanup::Sqlite(directory),
    });
}

/// Runs `test` on a new PostgreSQL database, or says it was skipped.
pub fn on_postgres(test: fn(&TestDb)) {
    let Some(admin_url) = std::env::var(POSTGRES_URL_VARIABLE)
        .ok()
        .filter(|url| !url.is_empty())
    else {
        println!("skipped: {POSTGRES_URL_VARIABLE} is not set (PostgreSQL test did not run)");
        return;
    };
    let database = format!("valence_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url)
        .unwrap_or_else(|error| panic!("{POSTGRES_URL_VARIABLE}: cannot connect: {error}"));
    admin
        .batch_execute(&format!("CREATE DATABASE \"{database}\""))
        .expect("create test database");
    drop(admin);
    let cleanup = Cleanup::Postgres {
        admin_url: admin_url.clone(),
        database: database.clone(),
    };
    let mut url = url::Url::parse(&admin_url).expect("test database URL");
    url.set_path(&format!("/{database}"));
    let url = url.to_string();
    let db = Db::connect(&url, &options()).expect("open PostgreSQL test database");
    test(&TestDb {
        db,
        url,
        backend: Backend::Postgres,
        _cleanup: cleanup,
    });
}

/// A runtime for the tests of the async API.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A PODM registration with every field set.
pub fn new_podm(name: &str) -> NewPodManager {
    NewPodManager {
        name: name.to_owned(),
        url: format!("https://{name}.example.test:8443"),
        driver: Driver::Rsd,
        auth_type: AuthType::Basic,
        username: Some("admin".to_owned()),
        password_secret: Some(PasswordSecret::new(format!("pw-of-{name}"))),
        tls_verify: true,
        tls_ca_cert: None,
        description: Some(format!("{name} description")),
        location: Some("rack 1".to_owned()),
        capabilities: serde_json::json!({ "compose": true }),
    }
}

/// A node made by Valence on `podm_uuid`, still allocating.
pub fn new_node(podm_uuid: uuid::Uuid, name: &str) -> NewNode {
    NewNode {
        name: name.to_owned(),
        description: None,
        podm_uuid,
        node_index: None,
        resource_uri: None,
        system_uri: None,
        state: NodeState::Allocating,
        compose_step: Some("allocate".to_owned()),
        flavor_uuid: None,
        requirements: serde_json::json!({ "cpu": { "cores": 4 } }),
        managed_by: ManagedBy::Valence,
        idempotency_key: None,
        owner_instance: None,
    }
}

/// Generates one `#[test]` per backend for each named `fn(&TestDb)` of the calling module.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { $crate::harness::on_sqlite(super::$name); })+
        }
        mod postgres {
            $(#[test] fn $name() { $crate::harness::on_postgres(super::$name); })+
        }
    };
}
pub(crate) use backend_tests;
