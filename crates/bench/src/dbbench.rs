//! The database fixture of scenario 5 (shared by `valence-bench db` and the criterion bench):
//! many PODMs and nodes, and the queries the API runs most.

use std::time::{Duration, Instant};

use uuid::Uuid;
use valence_db::{Db, DbConnection, DbError, ManagedBy, NewNode, NodeState, Page};

use crate::BenchError;

/// Rows inserted per transaction while populating.
const CHUNK: usize = 2000;

/// What was inserted: PODM uuids and node uuids, in insertion order.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub podms: Vec<Uuid>,
    pub nodes: Vec<Uuid>,
}

/// Inserts `podms` PODMs and `nodes` nodes spread evenly over them; half of each PODM's nodes
/// are Valence-made, the rest adopted.
pub async fn populate(db: &Db, podms: usize, nodes: usize) -> Result<Fixture, BenchError> {
    let mut podm_uuids = Vec::with_capacity(podms);
    for chunk_start in (0..podms).step_by(CHUNK) {
        let range = chunk_start..(chunk_start + CHUNK).min(podms);
        let created = db
            .transaction(move |conn| {
                range
                    .map(|i| {
                        let row = valence_db::NewPodManager {
                            name: format!("podm-{i}"),
                            url: format!("https://podm-{i}.example:8443"),
                            driver: valence_db::Driver::Rsd,
                            auth_type: valence_db::AuthType::Basic,
                            username: Some("admin".into()),
                            password_secret: None,
                            tls_verify: true,
                            tls_ca_cert: None,
                            description: None,
                            location: None,
                            capabilities: serde_json::json!({"compose": true}),
                        };
                        valence_db::pod_managers::create(conn, &row).map(|r| r.uuid)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        podm_uuids.extend(created);
    }
    let mut node_uuids = Vec::with_capacity(nodes);
    for chunk_start in (0..nodes).step_by(CHUNK) {
        let range = chunk_start..(chunk_start + CHUNK).min(nodes);
        let owners = podm_uuids.clone();
        let created = db
            .transaction(move |conn| {
                range
                    .map(|i| {
                        let new = NewNode {
                            name: format!("node-{i}"),
                            description: None,
                            podm_uuid: owners[i % owners.len()],
                            node_index: Some(i.to_string()),
                            resource_uri: Some(format!("/redfish/v1/Nodes/{i}")),
                            system_uri: Some(format!("/redfish/v1/Systems/{i}")),
                            state: NodeState::Ready,
                            compose_step: None,
                            flavor_uuid: None,
                            requirements: serde_json::json!({}),
                            // Alternate per round over the PODMs, so every PODM has both kinds.
                            managed_by: if (i / owners.len()) % 2 == 0 {
                                ManagedBy::Valence
                            } else {
                                ManagedBy::User
                            },
                            idempotency_key: None,
                            owner_instance: None,
                        };
                        valence_db::nodes::create(conn, &new).map(|n| n.uuid)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        node_uuids.extend(created);
    }
    Ok(Fixture {
        podms: podm_uuids,
        nodes: node_uuids,
    })
}

/// The measured queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// `nodes::get` by uuid (`GET /v1/nodes/{uuid}`).
    NodeByUuid,
    /// `pod_managers::get` by uuid (every PODM route).
    PodmByUuid,
    /// The nodes of one PODM (`GET /v1/nodes?podm_id=`).
    NodesOfPodm,
    /// Valence-made nodes of one PODM (safe delete, usage).
    CountValenceMade,
    /// Node counts of every PODM at once (`GET /v1/pod_managers`).
    CountsPerPodm,
}

impl Query {
    pub const ALL: [Query; 5] = [
        Query::NodeByUuid,
        Query::PodmByUuid,
        Query::NodesOfPodm,
        Query::CountValenceMade,
        Query::CountsPerPodm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Query::NodeByUuid => "node by uuid",
            Query::PodmByUuid => "PODM by uuid",
            Query::NodesOfPodm => "nodes of one PODM",
            Query::CountValenceMade => "count Valence-made nodes of one PODM",
            Query::CountsPerPodm => "node counts of every PODM",
        }
    }

    /// Runs the query for sample `i` of `fixture`; returns the number of rows it saw, so that
    /// an empty answer is noticed.
    pub fn run(
        self,
        conn: &mut DbConnection,
        fixture: &Fixture,
        i: usize,
    ) -> Result<usize, DbError> {
        let node = fixture.nodes[pick(i, fixture.nodes.len())];
        let podm = fixture.podms[pick(i, fixture.podms.len())];
        match self {
            Query::NodeByUuid => valence_db::nodes::get(conn, node).map(|_| 1),
            Query::PodmByUuid => valence_db::pod_managers::get(conn, podm).map(|_| 1),
            Query::NodesOfPodm => {
                valence_db::nodes::list_by_podm(conn, podm, Page::default()).map(|v| v.len())
            }
            Query::CountValenceMade => {
                valence_db::nodes::count_valence_made(conn, podm).map(|n| n as usize)
            }
            Query::CountsPerPodm => valence_db::nodes::counts_per_podm(conn).map(|m| m.len()),
        }
    }
}

/// A spread of indexes over `len` that is the same on every run (Knuth's multiplicative hash).
fn pick(i: usize, len: usize) -> usize {
    (i.wrapping_mul(2_654_435_761)) % len.max(1)
}

/// Times `samples` runs of `query` on one pooled connection (blocking: call from
/// `spawn_blocking` or a plain thread).
pub fn time_query(
    db: &Db,
    fixture: &Fixture,
    query: Query,
    samples: usize,
) -> Result<Vec<Duration>, BenchError> {
    let mut conn = db.get()?;
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let started = Instant::now();
        let rows = query.run(&mut conn, fixture, i)?;
        times.push(started.elapsed());
        if rows == 0 {
            return Err(BenchError::Check(format!("{}: no rows", query.name())));
        }
    }
    Ok(times)
}
