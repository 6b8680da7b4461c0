//! Pod managers: registration rows, health, and the safe delete that refuses while nodes remain.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::paging::{Page, apply_page, json_text, parse_json, parse_text, parse_uuid};
use crate::schema::{nodes, pod_managers};
use crate::types::{
    AuthType, Driver, PasswordSecret, PodmState, PodmStatus, truncate_to_micros, utc_now,
};

const ENTITY: &str = "pod manager";

/// A registered pod manager. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct PodManager {
    pub uuid: Uuid,
    pub name: String,
    /// Base URL (`https://host:port`), unique.
    pub url: String,
    pub driver: Driver,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub password_secret: Option<PasswordSecret>,
    /// Verify the PODM's TLS certificate.
    pub tls_verify: bool,
    /// PEM CA certificate(s) to trust for this PODM, beside or instead of the system roots.
    pub tls_ca_cert: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub state: PodmState,
    pub status: PodmStatus,
    pub last_seen_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    /// Capabilities and quirks detected from the PODM (JSON object).
    pub capabilities: serde_json::Value,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The Valence instance releasing this PODM's nodes while it is `deleting`, if any.
    pub owner_instance: Option<String>,
}

/// What is needed to register a pod manager. It starts `active` with status `Unknown`.
#[derive(Debug, Clone)]
pub struct NewPodManager {
    pub name: String,
    pub url: String,
    pub driver: Driver,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub password_secret: Option<PasswordSecret>,
    pub tls_verify: bool,
    pub tls_ca_cert: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub capabilities: serde_json::Value,
}

/// Changes to a pod manager: `None` leaves a field alone; for nullable fields `Some(None)`
/// clears it. Health has its own function ([`set_health`]).
#[derive(Debug, Clone, Default)]
pub struct PodManagerUpdate {
    pub name: Option<String>,
    pub url: Option<String>,
    pub driver: Option<Driver>,
    pub auth_type: Option<AuthType>,
    pub username: Option<Option<String>>,
    pub password_secret: Option<Option<PasswordSecret>>,
    pub tls_verify: Option<bool>,
    pub tls_ca_cert: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub state: Option<PodmState>,
    pub capabilities: Option<serde_json::Value>,
}

/// Which pod managers to list; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct PodManagerFilter {
    pub state: Option<PodmState>,
    pub status: Option<PodmStatus>,
    pub name: Option<String>,
}

/// The outcome of one health check.
#[derive(Debug, Clone)]
pub struct Health {
    pub status: PodmStatus,
    /// When the PODM last answered; `None` keeps the previous value (a failed check does not
    /// erase when it was last seen).
    pub last_seen_at: Option<NaiveDateTime>,
    /// The check's error; `None` clears the previous one.
    pub last_error: Option<String>,
}

#[derive(Queryable)]
struct PodManagerRow {
    uuid: String,
    name: String,
    url: String,
    driver: String,
    auth_type: String,
    username: Option<String>,
    password_secret: Option<String>,
    tls_verify: bool,
    tls_ca_cert: Option<String>,
    description: Option<String>,
    location: Option<String>,
    state: String,
    status: String,
    last_seen_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    capabilities: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    owner_instance: Option<String>,
}

impl TryFrom<PodManagerRow> for PodManager {
    type Error = DbError;

    fn try_from(row: PodManagerRow) -> Result<Self, DbError> {
        Ok(PodManager {
            uuid: parse_uuid(ENTITY, "uuid", &row.uuid)?,
            driver: parse_text(ENTITY, "driver", &row.driver)?,
            auth_type: parse_text(ENTITY, "auth_type", &row.auth_type)?,
            state: parse_text(ENTITY, "state", &row.state)?,
            status: parse_text(ENTITY, "status", &row.status)?,
            capabilities: parse_json(ENTITY, "capabilities", &row.capabilities)?,
            name: row.name,
            url: row.url,
            username: row.username,
            password_secret: row.password_secret.map(PasswordSecret::from),
            tls_verify: row.tls_verify,
            tls_ca_cert: row.tls_ca_cert,
            description: row.description,
            location: row.location,
            last_seen_at: row.last_seen_at,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
            owner_instance: row.owner_instance,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = pod_managers)]
struct NewPodManagerRow<'a> {
    uuid: String,
    name: &'a str,
    url: &'a str,
    driver: &'static str,
    auth_type: &'static str,
    username: Option<&'a str>,
    password_secret: Option<&'a str>,
    tls_verify: bool,
    tls_ca_cert: Option<&'a str>,
    description: Option<&'a str>,
    location: Option<&'a str>,
    state: &'static str,
    status: &'static str,
    last_seen_at: Option<NaiveDateTime>,
    last_error: Option<&'a str>,
    capabilities: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = pod_managers)]
struct PodManagerChangeset {
    name: Option<String>,
    url: Option<String>,
    driver: Option<&'static str>,
    auth_type: Option<&'static str>,
    username: Option<Option<String>>,
    password_secret: Option<Option<String>>,
    tls_verify: Option<bool>,
    tls_ca_cert: Option<Option<String>>,
    description: Option<Option<String>>,
    location: Option<Option<String>>,
    state: Option<&'static str>,
    capabilities: Option<String>,
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

/// Registers a pod manager with a new uuid.
pub fn create(conn: &mut DbConnection, new: &NewPodManager) -> Result<PodManager, DbError> {
    let uuid = Uuid::new_v4();
    let now = utc_now();
    let row = NewPodManagerRow {
        uuid: uuid.to_string(),
        name: &new.name,
        url: &new.url,
        driver: new.driver.as_str(),
        auth_type: new.auth_type.as_str(),
        username: new.username.as_deref(),
        password_secret: new.password_secret.as_ref().map(PasswordSecret::expose),
        tls_verify: new.tls_verify,
        tls_ca_cert: new.tls_ca_cert.as_deref(),
        description: new.description.as_deref(),
        location: new.location.as_deref(),
        state: PodmState::Active.as_str(),
        status: PodmStatus::Unknown.as_str(),
        last_seen_at: None,
        last_error: None,
        capabilities: json_text(&new.capabilities),
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(pod_managers::table)
        .values(&row)
        .execute(conn)
        .map_err(query_error)?;
    get(conn, uuid)
}

/// The pod manager with this uuid, or `None`.
pub fn find(conn: &mut DbConnection, uuid: Uuid) -> Result<Option<PodManager>, DbError> {
    pod_managers::table
        .find(uuid.to_string())
        .first::<PodManagerRow>(conn)
        .optional()
        .map_err(query_error)?
        .map(PodManager::try_from)
        .transpose()
}

/// The pod manager with this uuid, or [`DbError::NotFound`].
pub fn get(conn: &mut DbConnection, uuid: Uuid) -> Result<PodManager, DbError> {
    find(conn, uuid)?.ok_or_else(|| not_found(uuid))
}

/// The pod manager with this name, or `None`.
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> Result<Option<PodManager>, DbError> {
    pod_managers::table
        .filter(pod_managers::name.eq(name))
        .first::<PodManagerRow>(conn)
        .optional()
        .map_err(query_error)?
        .map(PodManager::try_from)
        .transpose()
}

/// Pod managers matching `filter`, in registration order, one [`Page`] of them.
pub fn list(
    conn: &mut DbConnection,
    filter: &PodManagerFilter,
    page: Page,
) -> Result<Vec<PodManager>, DbError> {
    let mut query = pod_managers::table.into_boxed();
    if let Some(state) = filter.state {
        query = query.filter(pod_managers::state.eq(state.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(pod_managers::status.eq(status.as_str()));
    }
    if let Some(name) = &filter.name {
        query = query.filter(pod_managers::name.eq(name.clone()));
    }
    let query = apply_page!(query, pod_managers, page, conn, ENTITY);
    query
        .load::<PodManagerRow>(conn)
        .map_err(query_error)?
        .into_iter()
        .map(PodManager::try_from)
        .collect()
}

/// Applies `changes` and bumps `updated_at`; returns the updated row.
pub fn update(
    conn: &mut DbConnection,
    uuid: Uuid,
    changes: &PodManagerUpdate,
) -> Result<PodManager, DbError> {
    let changeset = PodManagerChangeset {
        name: changes.name.clone(),
        url: changes.url.clone(),
        driver: changes.driver.map(Driver::as_str),
        auth_type: changes.auth_type.map(AuthType::as_str),
        username: changes.username.clone(),
        password_secret: changes
            .password_secret
            .as_ref()
            .map(|secret| secret.as_ref().map(|secret| secret.expose().to_owned())),
        tls_verify: changes.tls_verify,
        tls_ca_cert: changes.tls_ca_cert.clone(),
        description: changes.description.clone(),
        location: changes.location.clone(),
        state: changes.state.map(PodmState::as_str),
        capabilities: changes.capabilities.as_ref().map(json_text),
        updated_at: utc_now(),
    };
    let updated = diesel::update(pod_managers::table.find(uuid.to_string()))
        .set(changeset)
        .execute(conn)
        .map_err(query_error)?;
    if updated == 0 {
        return Err(not_found(uuid));
    }
    get(conn, uuid)
}

/// Sets the administrative state (cordon, uncordon, deleting) and bumps `updated_at`.
pub fn set_state(
    conn: &mut DbConnection,
    uuid: Uuid,
    state: PodmState,
) -> Result<PodManager, DbError> {
    update(
        conn,
        uuid,
        &PodManagerUpdate {
            state: Some(state),
            ..PodManagerUpdate::default()
        },
    )
}

/// Records a health check: status, last error and (when given) when the PODM was last seen.
///
/// `updated_at` is left alone: it tracks changes to the registration, not the periodic checks.
pub fn set_health(conn: &mut DbConnection, uuid: Uuid, health: &Health) -> Result<(), DbError> {
    let target = pod_managers::table.find(uuid.to_string());
    let status = pod_managers::status.eq(health.status.as_str());
    let last_error = pod_managers::last_error.eq(health.last_error.as_deref());
    let updated = match health.last_seen_at {
        Some(seen) => diesel::update(target)
            .set((
                status,
                last_error,
                pod_managers::last_seen_at.eq(Some(truncate_to_micros(seen))),
            ))
            .execute(conn),
        None => diesel::update(target)
            .set((status, last_error))
            .execute(conn),
    }
    .map_err(query_error)?;
    if updated == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}

/// Deletes the row. The database refuses (a [`DbError::Conflict`] on the foreign key) while
/// nodes still refer to it; its devices go with it. Prefer [`delete_if_unused`].
pub fn delete(conn: &mut DbConnection, uuid: Uuid) -> Result<(), DbError> {
    let deleted = diesel::delete(pod_managers::table.find(uuid.to_string()))
        .execute(conn)
        .map_err(query_error)?;
    if deleted == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}

/// The safe delete: marks the PODM `deleting` (so nothing new is placed on it) and, in the same
/// transaction, deletes it if no node refers to it.
///
/// With nodes left the mark is committed and [`DbError::PodmHasNodes`] returned, so the caller
/// can release the nodes and call again. Inside a caller's transaction this runs as a savepoint
/// and the caller decides what is committed.
pub fn delete_if_unused(conn: &mut DbConnection, uuid: Uuid) -> Result<(), DbError> {
    let remaining = conn.transaction(|conn| -> Result<i64, DbError> {
        set_state(conn, uuid, PodmState::Deleting)?;
        let count = nodes::table
            .filter(nodes::podm_uuid.eq(uuid.to_string()))
            .count()
            .get_result::<i64>(conn)
            .map_err(query_error)?;
        if count == 0 {
            delete(conn, uuid)?;
        }
        Ok(count)
    })?;
    if remaining > 0 {
        return Err(DbError::PodmHasNodes {
            podm_uuid: uuid,
            count: remaining,
        });
    }
    Ok(())
}

/// Makes `owner` the instance releasing a `deleting` PODM's nodes, if it is still owned by
/// `expected` (None: by nobody).
pub fn claim(
    conn: &mut DbConnection,
    uuid: Uuid,
    expected: Option<&str>,
    owner: &str,
) -> Result<bool, DbError> {
    let target = pod_managers::table.filter(pod_managers::uuid.eq(uuid.to_string()));
    let set = pod_managers::owner_instance.eq(owner);
    let updated = match expected {
        Some(previous) => diesel::update(target.filter(pod_managers::owner_instance.eq(previous)))
            .set(set)
            .execute(conn),
        None => diesel::update(target.filter(pod_managers::owner_instance.is_null()))
            .set(set)
            .execute(conn),
    }
    .map_err(query_error)?;
    Ok(updated == 1)
}

/// Sets (or clears) the instance releasing a `deleting` PODM's nodes.
pub fn set_owner(conn: &mut DbConnection, uuid: Uuid, owner: Option<&str>) -> Result<(), DbError> {
    let updated = diesel::update(pod_managers::table.find(uuid.to_string()))
        .set(pod_managers::owner_instance.eq(owner))
        .execute(conn)
        .map_err(query_error)?;
    if updated == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}
