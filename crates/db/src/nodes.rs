//! Composed nodes that Valence made or adopted, with the compose progress kept for recovery.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::paging::{
    Page, apply_page, json_text, parse_json, parse_optional_uuid, parse_text, parse_uuid,
};
use crate::schema::nodes;
use crate::types::{ManagedBy, NodeState, utc_now};

const ENTITY: &str = "node";

/// A composed node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub uuid: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub podm_uuid: Uuid,
    /// The PODM's own id of the node (`index` in the API).
    pub node_index: Option<String>,
    /// The node's URI on the PODM; unique per PODM once known.
    pub resource_uri: Option<String>,
    /// URI of the computer system the node runs on.
    pub system_uri: Option<String>,
    pub state: NodeState,
    /// The PODM call under way (`allocate`, `assemble`, ...), so a restart can resume or clean up.
    pub compose_step: Option<String>,
    pub flavor_uuid: Option<Uuid>,
    /// The requirements the node was composed with (JSON).
    pub requirements: serde_json::Value,
    pub managed_by: ManagedBy,
    /// Client-chosen key that makes a compose request safe to retry; unique.
    pub idempotency_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The Valence instance driving the step under way (`compose_step`), if any.
    pub owner_instance: Option<String>,
}

/// What is needed to record a node.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub name: String,
    pub description: Option<String>,
    pub podm_uuid: Uuid,
    pub node_index: Option<String>,
    pub resource_uri: Option<String>,
    pub system_uri: Option<String>,
    pub state: NodeState,
    pub compose_step: Option<String>,
    pub flavor_uuid: Option<Uuid>,
    pub requirements: serde_json::Value,
    pub managed_by: ManagedBy,
    pub idempotency_key: Option<String>,
    /// The Valence instance that drives the first step.
    pub owner_instance: Option<String>,
}

/// Changes to a node: `None` leaves a field alone; for nullable fields `Some(None)` clears it.
/// The idempotency key of a node never changes; its PODM only while it is being placed (a PODM
/// that refuses the allocation hands the node to the next candidate).
#[derive(Debug, Clone, Default)]
pub struct NodeUpdate {
    pub podm_uuid: Option<Uuid>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub node_index: Option<Option<String>>,
    pub resource_uri: Option<Option<String>>,
    pub system_uri: Option<Option<String>>,
    pub state: Option<NodeState>,
    pub compose_step: Option<Option<String>>,
    pub flavor_uuid: Option<Option<Uuid>>,
    pub requirements: Option<serde_json::Value>,
    pub managed_by: Option<ManagedBy>,
    pub last_error: Option<Option<String>>,
    pub owner_instance: Option<Option<String>>,
}

/// A step of composing or releasing a node: the new state, the PODM call now under way
/// (`None` when none is), and the node's URI once the PODM has given it (`None` keeps it).
#[derive(Debug, Clone)]
pub struct NodeProgress {
    pub state: NodeState,
    pub compose_step: Option<String>,
    pub resource_uri: Option<String>,
}

/// Which nodes to list; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct NodeFilter {
    pub podm_uuid: Option<Uuid>,
    pub state: Option<NodeState>,
    pub name: Option<String>,
    pub managed_by: Option<ManagedBy>,
    pub flavor_uuid: Option<Uuid>,
}

/// Node counts of one PODM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Every node recorded on the PODM.
    pub total: i64,
    /// Those Valence composed (`managed_by = valence`).
    pub valence_made: i64,
}

#[derive(Queryable)]
struct NodeRow {
    uuid: String,
    name: String,
    description: Option<String>,
    podm_uuid: String,
    node_index: Option<String>,
    resource_uri: Option<String>,
    system_uri: Option<String>,
    state: String,
    compose_step: Option<String>,
    flavor_uuid: Option<String>,
    requirements: String,
    managed_by: String,
    idempotency_key: Option<String>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    owner_instance: Option<String>,
}

impl TryFrom<NodeRow> for Node {
    type Error = DbError;

    fn try_from(row: NodeRow) -> Result<Self, DbError> {
        Ok(Node {
            uuid: parse_uuid(ENTITY, "uuid", &row.uuid)?,
            podm_uuid: parse_uuid(ENTITY, "podm_uuid", &row.podm_uuid)?,
            state: parse_text(ENTITY, "state", &row.state)?,
            flavor_uuid: parse_optional_uuid(ENTITY, "flavor_uuid", row.flavor_uuid.as_deref())?,
            requirements: parse_json(ENTITY, "requirements", &row.requirements)?,
            managed_by: parse_text(ENTITY, "managed_by", &row.managed_by)?,
            name: row.name,
            description: row.description,
            node_index: row.node_index,
            resource_uri: row.resource_uri,
            system_uri: row.system_uri,
            compose_step: row.compose_step,
            idempotency_key: row.idempotency_key,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
            owner_instance: row.owner_instance,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = nodes)]
struct NewNodeRow<'a> {
    uuid: String,
    name: &'a str,
    description: Option<&'a str>,
    podm_uuid: String,
    node_index: Option<&'a str>,
    resource_uri: Option<&'a str>,
    system_uri: Option<&'a str>,
    state: &'static str,
    compose_step: Option<&'a str>,
    flavor_uuid: Option<String>,
    requirements: String,
    managed_by: &'static str,
    idempotency_key: Option<&'a str>,
    last_error: Option<&'a str>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    owner_instance: Option<&'a str>,
}

#[derive(AsChangeset)]
#[diesel(table_name = nodes)]
struct NodeChangeset {
    podm_uuid: Option<String>,
    name: Option<String>,
    description: Option<Option<String>>,
    node_index: Option<Option<String>>,
    resource_uri: Option<Option<String>>,
    system_uri: Option<Option<String>>,
    state: Option<&'static str>,
    compose_step: Option<Option<String>>,
    flavor_uuid: Option<Option<String>>,
    requirements: Option<String>,
    managed_by: Option<&'static str>,
    last_error: Option<Option<String>>,
    owner_instance: Option<Option<String>>,
    updated_at: NaiveDateTime,
}

fn query_error(error: diesel::result::Error) -> DbError {
    DbError::from_query(ENTITY, error)
}

fn not_found(uuid: Uuid) -> DbError {
    DbError::NotFound {
        entity: ENTITY,
        id: uuid.to_string(),
    }
}

fn load_one(
    conn: &mut DbConnection,
    query: nodes::BoxedQuery<'_, crate::MultiBackend>,
) -> Result<Option<Node>, DbError> {
    query
        .first::<NodeRow>(conn)
        .optional()
        .map_err(query_error)?
        .map(Node::try_from)
        .transpose()
}

/// Records a node with a new uuid. Refused ([`DbError::Conflict`]) when the PODM does not
/// exist, the PODM already has a node at `resource_uri`, or the idempotency key is taken.
pub fn create(conn: &mut DbConnection, new: &NewNode) -> Result<Node, DbError> {
    let uuid = Uuid::new_v4();
    let now = utc_now();
    let row = NewNodeRow {
        uuid: uuid.to_string(),
        name: &new.name,
        description: new.description.as_deref(),
        podm_uuid: new.podm_uuid.to_string(),
        node_index: new.node_index.as_deref(),
        resource_uri: new.resource_uri.as_deref(),
        system_uri: new.system_uri.as_deref(),
        state: new.state.as_str(),
        compose_step: new.compose_step.as_deref(),
        flavor_uuid: new.flavor_uuid.map(|flavor| flavor.to_string()),
        requirements: json_text(&new.requirements),
        managed_by: new.managed_by.as_str(),
        idempotency_key: new.idempotency_key.as_deref(),
        last_error: None,
        created_at: now,
        updated_at: now,
        owner_instance: new.owner_instance.as_deref(),
    };
    diesel::insert_into(nodes::table)
        .values(&row)
        .execute(conn)
        .map_err(query_error)?;
    get(conn, uuid)
}

/// The node with this uuid, or `None`.
pub fn find(conn: &mut DbConnection, uuid: Uuid) -> Result<Option<Node>, DbError> {
    load_one(conn, nodes::table.find(uuid.to_string()).into_boxed())
}

/// The node with this uuid, or [`DbError::NotFound`].
pub fn get(conn: &mut DbConnection, uuid: Uuid) -> Result<Node, DbError> {
    find(conn, uuid)?.ok_or_else(|| not_found(uuid))
}

/// The node recorded for this idempotency key, if any (a retried compose finds its node).
pub fn find_by_idempotency_key(
    conn: &mut DbConnection,
    key: &str,
) -> Result<Option<Node>, DbError> {
    load_one(
        conn,
        nodes::table
            .filter(nodes::idempotency_key.eq(key.to_owned()))
            .into_boxed(),
    )
}

/// The node at `resource_uri` on that PODM, if recorded (adopting a node twice is refused).
pub fn find_by_resource_uri(
    conn: &mut DbConnection,
    podm_uuid: Uuid,
    resource_uri: &str,
) -> Result<Option<Node>, DbError> {
    load_one(
        conn,
        nodes::table
            .filter(nodes::podm_uuid.eq(podm_uuid.to_string()))
            .filter(nodes::resource_uri.eq(resource_uri.to_owned()))
            .into_boxed(),
    )
}

/// Nodes matching `filter`, in creation order, one [`Page`] of them.
pub fn list(
    conn: &mut DbConnection,
    filter: &NodeFilter,
    page: Page,
) -> Result<Vec<Node>, DbError> {
    let mut query = nodes::table.into_boxed();
    if let Some(podm_uuid) = filter.podm_uuid {
        query = query.filter(nodes::podm_uuid.eq(podm_uuid.to_string()));
    }
    if let Some(state) = filter.state {
        query = query.filter(nodes::state.eq(state.as_str()));
    }
    if let Some(name) = &filter.name {
        query = query.filter(nodes::name.eq(name.clone()));
    }
    if let Some(managed_by) = filter.managed_by {
        query = query.filter(nodes::managed_by.eq(managed_by.as_str()));
    }
    if let Some(flavor_uuid) = filter.flavor_uuid {
        query = query.filter(nodes::flavor_uuid.eq(flavor_uuid.to_string()));
    }
    let query = apply_page!(query, nodes, page, conn, ENTITY);
    query
        .load::<NodeRow>(conn)
        .map_err(query_error)?
        .into_iter()
        .map(Node::try_from)
        .collect()
}

/// The nodes of one PODM, one [`Page`] of them.
pub fn list_by_podm(
    conn: &mut DbConnection,
    podm_uuid: Uuid,
    page: Page,
) -> Result<Vec<Node>, DbError> {
    list(
        conn,
        &NodeFilter {
            podm_uuid: Some(podm_uuid),
            ..NodeFilter::default()
        },
        page,
    )
}

/// How many nodes of this PODM Valence composed.
pub fn count_valence_made(conn: &mut DbConnection, podm_uuid: Uuid) -> Result<i64, DbError> {
    nodes::table
        .filter(nodes::podm_uuid.eq(podm_uuid.to_string()))
        .filter(nodes::managed_by.eq(ManagedBy::Valence.as_str()))
        .count()
        .get_result(conn)
        .map_err(query_error)
}

/// How many nodes this PODM has, in all.
pub fn count_by_podm(conn: &mut DbConnection, podm_uuid: Uuid) -> Result<i64, DbError> {
    nodes::table
        .filter(nodes::podm_uuid.eq(podm_uuid.to_string()))
        .count()
        .get_result(conn)
        .map_err(query_error)
}

/// Node counts of every PODM that has nodes, in two grouped queries (for PODM lists with usage).
pub fn counts_per_podm(conn: &mut DbConnection) -> Result<HashMap<Uuid, NodeCounts>, DbError> {
    let totals: Vec<(String, i64)> = nodes::table
        .group_by(nodes::podm_uuid)
        .select((nodes::podm_uuid, diesel::dsl::count_star()))
        .load(conn)
        .map_err(query_error)?;
    let valence_made: Vec<(String, i64)> = nodes::table
        .filter(nodes::managed_by.eq(ManagedBy::Valence.as_str()))
        .group_by(nodes::podm_uuid)
        .select((nodes::podm_uuid, diesel::dsl::count_star()))
        .load(conn)
        .map_err(query_error)?;
    let mut counts = HashMap::new();
    for (podm_uuid, total) in totals {
        counts
            .entry(parse_uuid(ENTITY, "podm_uuid", &podm_uuid)?)
            .or_insert_with(NodeCounts::default)
            .total = total;
    }
    for (podm_uuid, made) in valence_made {
        counts
            .entry(parse_uuid(ENTITY, "podm_uuid", &podm_uuid)?)
            .or_insert_with(NodeCounts::default)
            .valence_made = made;
    }
    Ok(counts)
}

/// Applies `changes` and bumps `updated_at`; returns the updated row.
pub fn update(conn: &mut DbConnection, uuid: Uuid, changes: &NodeUpdate) -> Result<Node, DbError> {
    let changeset = NodeChangeset {
        podm_uuid: changes.podm_uuid.map(|podm| podm.to_string()),
        name: changes.name.clone(),
        description: changes.description.clone(),
        node_index: changes.node_index.clone(),
        resource_uri: changes.resource_uri.clone(),
        system_uri: changes.system_uri.clone(),
        state: changes.state.map(NodeState::as_str),
        compose_step: changes.compose_step.clone(),
        flavor_uuid: changes
            .flavor_uuid
            .map(|flavor| flavor.map(|flavor| flavor.to_string())),
        requirements: changes.requirements.as_ref().map(json_text),
        managed_by: changes.managed_by.map(ManagedBy::as_str),
        last_error: changes.last_error.clone(),
        owner_instance: changes.owner_instance.clone(),
        updated_at: utc_now(),
    };
    let updated = diesel::update(nodes::table.find(uuid.to_string()))
        .set(changeset)
        .execute(conn)
        .map_err(query_error)?;
    if updated == 0 {
        return Err(not_found(uuid));
    }
    get(conn, uuid)
}

/// Records a compose or release step (see [`NodeProgress`]); returns the updated row.
pub fn set_progress(
    conn: &mut DbConnection,
    uuid: Uuid,
    progress: &NodeProgress,
) -> Result<Node, DbError> {
    update(
        conn,
        uuid,
        &NodeUpdate {
            state: Some(progress.state),
            compose_step: Some(progress.compose_step.clone()),
            resource_uri: progress.resource_uri.clone().map(Some),
            ..NodeUpdate::default()
        },
    )
}

/// Deletes the node's row (devices attached to it become unattached).
pub fn delete(conn: &mut DbConnection, uuid: Uuid) -> Result<(), DbError> {
    let deleted = diesel::delete(nodes::table.find(uuid.to_string()))
        .execute(conn)
        .map_err(query_error)?;
    if deleted == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}

/// Nodes with a step under way (`compose_step` set), oldest first: what a restart or another
/// instance may have to finish.
pub fn in_progress(conn: &mut DbConnection) -> Result<Vec<Node>, DbError> {
    nodes::table
        .filter(nodes::compose_step.is_not_null())
        .order((nodes::created_at.asc(), nodes::uuid.asc()))
        .load::<NodeRow>(conn)
        .map_err(query_error)?
        .into_iter()
        .map(Node::try_from)
        .collect()
}

/// Makes `owner` the instance driving the node's step, if the node is still owned by
/// `expected` (None: by nobody). Exactly one of several instances racing for it wins.
pub fn claim(
    conn: &mut DbConnection,
    uuid: Uuid,
    expected: Option<&str>,
    owner: &str,
) -> Result<bool, DbError> {
    let target = nodes::table.filter(nodes::uuid.eq(uuid.to_string()));
    let set = (
        nodes::owner_instance.eq(owner),
        nodes::updated_at.eq(utc_now()),
    );
    let updated = match expected {
        Some(previous) => diesel::update(target.filter(nodes::owner_instance.eq(previous)))
            .set(set)
            .execute(conn),
        None => diesel::update(target.filter(nodes::owner_instance.is_null()))
            .set(set)
            .execute(conn),
    }
    .map_err(query_error)?;
    Ok(updated == 1)
}
