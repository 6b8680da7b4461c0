//! Setting the stage: databases (a SQLite file or a scratch PostgreSQL database), PODMs
//! registered in them, and waiting until a server has read every PODM once.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use uuid::Uuid;
use valence_db::{DatabaseTarget, Db, DbConnection, DbOptions};

use crate::BenchError;
use crate::http::Http;

/// Database backends the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A database for one run, dropped afterwards (a PostgreSQL scratch database is dropped when
/// this is; a SQLite file goes with its directory).
#[derive(Debug)]
pub struct BenchDb {
    pub url: String,
    /// `(server URL, database name)` of a scratch PostgreSQL database.
    scratch: Option<(String, String)>,
}

impl BenchDb {
    /// A new empty database of `backend`: a file in `dir`, or a database created on the
    /// PostgreSQL server at `pg_server` (`postgres://user@host:port`).
    pub fn create(backend: Backend, dir: &Path, pg_server: &str) -> Result<Self, BenchError> {
        match backend {
            Backend::Sqlite => Ok(Self {
                url: format!("sqlite://{}", dir.join("valence.db").display()),
                scratch: None,
            }),
            Backend::Postgres => {
                let name = format!("valence_bench_{}", Uuid::new_v4().simple());
                admin_sql(pg_server, &format!("CREATE DATABASE {name}"))?;
                Ok(Self {
                    url: format!("{}/{name}", pg_server.trim_end_matches('/')),
                    scratch: Some((pg_server.to_owned(), name)),
                })
            }
        }
    }

    pub fn open(&self, max_connections: u32) -> Result<Db, BenchError> {
        let options = DbOptions {
            max_connections,
            ..DbOptions::default()
        };
        Ok(Db::connect(&self.url, &options)?)
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.scratch
            && let Err(e) = admin_sql(
                server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
        {
            eprintln!("cannot drop the scratch database {name}: {e}");
        }
    }
}

/// Runs one statement on the server's `postgres` database (creating and dropping databases).
fn admin_sql(server: &str, sql: &str) -> Result<(), BenchError> {
    let url = format!("{}/postgres", server.trim_end_matches('/'));
    let target = DatabaseTarget::parse(&url)?;
    let mut conn = valence_db::establish(&target, Duration::from_secs(5))?;
    let DbConnection::Postgresql(pg) = &mut conn else {
        return Err(BenchError::DbSetup {
            what: url,
            detail: "not a PostgreSQL URL".into(),
        });
    };
    diesel::sql_query(sql)
        .execute(pg)
        .map(drop)
        .map_err(|e| BenchError::DbSetup {
            what: sql.to_owned(),
            detail: e.to_string(),
        })
}

/// Records the simulated PODMs at `urls` as registered RSD PODMs (what `POST /v1/pod_managers`
/// stores, without its probe: the server's first health check probes them).
pub async fn register_podms(db: &Db, urls: &[String]) -> Result<Vec<Uuid>, BenchError> {
    let mut rows = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        let url = valence_pod_manager_api::normalize_base_url_text(url).map_err(|e| {
            BenchError::Check(format!("simulator URL {url}: {}: {}", e.field, e.detail))
        })?;
        rows.push(valence_db::NewPodManager {
            name: format!("bench-podm-{i}"),
            url,
            driver: valence_db::Driver::Rsd,
            auth_type: valence_db::AuthType::Basic,
            username: None,
            password_secret: None,
            tls_verify: true,
            tls_ca_cert: None,
            description: None,
            location: None,
            capabilities: serde_json::json!({"driver_source": "given"}),
        });
    }
    let created = db
        .transaction(move |conn| {
            rows.iter()
                .map(|row| valence_db::pod_managers::create(conn, row).map(|r| r.uuid))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(created)
}

/// Waits until the server lists `expected` PODMs, every one with its inventory cached (the
/// start-up refresh has read them all); returns how long that took.
pub async fn wait_until_read(
    http: &Http,
    base: &str,
    expected: usize,
    within: Duration,
) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let url = format!("{base}/v1/pod_managers");
    let mut last = String::from("no answer yet");
    while started.elapsed() < within {
        match http.get_json::<Vec<serde_json::Value>>(&url).await {
            Ok(list) => {
                let read = list
                    .iter()
                    .filter(|p| p["usage"]["available"] == true)
                    .count();
                if list.len() == expected && read == expected {
                    return Ok(started.elapsed());
                }
                last = format!("{read} of {} PODMs read ({expected} expected)", list.len());
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(BenchError::NotReady {
        what: "the inventories",
        within,
        detail: last,
    })
}
