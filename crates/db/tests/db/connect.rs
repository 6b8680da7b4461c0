//! Opening databases: URL schemes, missing directories, migrations run twice, per-connection
//! settings.

use diesel::{QueryableByName, RunQueryDsl};
use valence_db::{
    Backend, ConflictKind, Db, DbConnection, DbError, DbOptions, Page, PodManagerFilter, nodes,
    pod_managers, run_migrations,
};

use crate::harness::{TestDb, backend_tests, new_node, new_podm, options};

backend_tests!(
    migrations_are_idempotent,
    every_pooled_connection_enforces_foreign_keys,
);

fn migrations_are_idempotent(t: &TestDb) {
    let podm = pod_managers::create(&mut t.conn(), &new_podm("kept")).unwrap();
    // A second start-up on the same database: nothing to apply, data intact.
    let again = Db::connect(&t.url, &options()).unwrap();
    assert_eq!(again.backend(), t.backend);
    let mut conn = again.get().unwrap();
    assert!(run_migrations(&mut conn).unwrap().is_empty());
    assert_eq!(
        pod_managers::get(&mut conn, podm.uuid).unwrap().name,
        "kept"
    );
    drop(conn);
    let third = Db::connect(&t.url, &options()).unwrap();
    let listed = pod_managers::list(
        &mut third.get().unwrap(),
        &PodManagerFilter::default(),
        Page::default(),
    )
    .unwrap();
    assert_eq!(listed.len(), 1);
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    timeout: i64,
}

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    foreign_keys: i64,
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

fn every_pooled_connection_enforces_foreign_keys(t: &TestDb) {
    let db = Db::connect(
        &t.url,
        &DbOptions {
            max_connections: 4,
            min_idle: Some(4),
            sqlite_busy_timeout: std::time::Duration::from_millis(1234),
            ..options()
        },
    )
    .unwrap();
    // Hold four connections at once, so that four distinct connections are checked.
    let mut held: Vec<_> = (0..4).map(|_| db.get().unwrap()).collect();
    for conn in &mut held {
        let orphan = nodes::create(conn, &new_node(uuid::Uuid::new_v4(), "orphan"));
        assert!(
            orphan
                .as_ref()
                .is_err_and(|error| error.is_conflict(ConflictKind::ForeignKey)),
            "{orphan:?}"
        );
        if let DbConnection::Sqlite(sqlite) = &mut **conn {
            let mode = diesel::sql_query("PRAGMA journal_mode")
                .get_result::<JournalMode>(sqlite)
                .unwrap();
            assert_eq!(mode.journal_mode, "wal");
            let busy = diesel::sql_query("PRAGMA busy_timeout")
                .get_result::<BusyTimeout>(sqlite)
                .unwrap();
            assert_eq!(busy.timeout, 1234, "the configured sqlite_busy_timeout");
            let keys = diesel::sql_query("PRAGMA foreign_keys")
                .get_result::<ForeignKeys>(sqlite)
                .unwrap();
            assert_eq!(keys.foreign_keys, 1);
        }
    }
}

fn invalid_reason(url: &str) -> String {
    match Db::connect(url, &DbOptions::default()) {
        Err(DbError::InvalidUrl { reason }) => reason,
        other => panic!("`{url}` should be refused as an invalid URL, got {other:?}"),
    }
}

#[test]
fn unsupported_schemes_are_refused_by_name() {
    assert!(invalid_reason("mysql://x").contains("`mysql`"));
    assert!(invalid_reason("mariadb://u:p@h/db").contains("`mariadb`"));
    assert!(invalid_reason("").contains("empty"));
    assert!(invalid_reason("postgres:valence").contains("postgres://"));
}

#[test]
fn libpq_keyword_string_never_becomes_a_file() {
    let directory = tempfile::tempdir().unwrap();
    let keyword_string = "host=127.0.0.1 dbname=valence user=postgres";
    let reason = invalid_reason(keyword_string);
    assert!(reason.contains("postgres://"), "{reason}");
    assert!(!std::path::Path::new(keyword_string).exists());
    assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
}

#[test]
fn missing_sqlite_directory_is_not_created() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("no-such-dir");
    let url = format!("sqlite://{}", missing.join("valence.db").display());
    match Db::connect(&url, &DbOptions::default()) {
        Err(DbError::MissingDirectory { path }) => assert_eq!(path, missing),
        other => panic!("expected MissingDirectory, got {other:?}"),
    }
    assert!(!missing.exists());
}

#[test]
fn sqlite_url_spellings_open_the_same_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("valence.db");
    let spelled = [
        format!("sqlite://{}", path.display()),
        format!("sqlite:{}", path.display()),
        path.display().to_string(),
    ];
    let first = Db::connect(&spelled[0], &DbOptions::default()).unwrap();
    assert_eq!(first.backend(), Backend::Sqlite);
    let podm = pod_managers::create(&mut first.get().unwrap(), &new_podm("shared")).unwrap();
    for url in &spelled[1..] {
        let db = Db::connect(url, &DbOptions::default()).unwrap();
        assert_eq!(
            pod_managers::get(&mut db.get().unwrap(), podm.uuid)
                .unwrap()
                .name,
            "shared"
        );
    }
}

#[test]
fn unreachable_postgres_reports_the_connection_error() {
    // Port 1 on loopback: nothing listens, the refusal is immediate.
    match Db::connect(
        "postgres://valence@127.0.0.1:1/valence",
        &DbOptions::default(),
    ) {
        Err(DbError::Connect {
            backend: Backend::Postgres,
            source,
        }) => assert!(!source.to_string().is_empty()),
        other => panic!("expected a PostgreSQL connection error, got {other:?}"),
    }
}

/// Counts what the pool reports, as the metrics of the layer above do.
#[derive(Default)]
struct CountingObserver {
    checked_out: std::sync::atomic::AtomicU32,
    checked_in: std::sync::atomic::AtomicU32,
    timed_out: std::sync::atomic::AtomicU32,
}

impl valence_db::PoolObserver for CountingObserver {
    fn checked_out(&self, _waited: std::time::Duration) {
        self.checked_out
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn checked_in(&self, _held: std::time::Duration) {
        self.checked_in
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn timed_out(&self, _waited: std::time::Duration) {
        self.timed_out
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn the_pool_reports_checkouts_checkins_timeouts_and_its_state() {
    use std::sync::atomic::Ordering::SeqCst;
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("valence.db").display());
    let observer = std::sync::Arc::new(CountingObserver::default());
    let db = Db::connect_observed(
        &url,
        &DbOptions {
            max_connections: 1,
            min_idle: Some(1),
            connection_timeout: std::time::Duration::from_millis(200),
            ..DbOptions::default()
        },
        Some(observer.clone()),
    )
    .unwrap();
    assert_eq!(db.pool_state().max_connections, 1);

    let held = db.get().unwrap();
    assert_eq!(observer.checked_out.load(SeqCst), 1);
    let state = db.pool_state();
    assert_eq!((state.in_use(), state.idle), (1, 0), "{state:?}");
    // The only connection is taken: the next caller waits out the timeout.
    assert!(db.get().is_err());
    assert_eq!(observer.timed_out.load(SeqCst), 1);

    drop(held);
    assert_eq!(observer.checked_in.load(SeqCst), 1);
    let state = db.pool_state();
    assert_eq!((state.in_use(), state.idle), (0, 1), "{state:?}");
}
