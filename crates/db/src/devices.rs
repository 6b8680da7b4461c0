//! Pooled devices of the PODMs (a mirror of their inventory), optionally attached to a node.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::paging::{Page, apply_page, json_text, parse_json, parse_optional_uuid, parse_uuid};
use crate::schema::devices;
use crate::types::utc_now;

const ENTITY: &str = "device";

/// A pooled device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub uuid: Uuid,
    pub podm_uuid: Uuid,
    /// The node it is attached to, if any.
    pub node_uuid: Option<Uuid>,
    /// Kind of device as the PODM names it (e.g. `SSD`, `NIC`).
    pub device_type: String,
    /// State as the PODM reports it (e.g. `free`, `allocated`).
    pub state: String,
    /// The device's URI on the PODM; unique per PODM.
    pub resource_uri: String,
    /// What the PODM says about it (JSON).
    pub properties: serde_json::Value,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What is needed to record a device.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub podm_uuid: Uuid,
    pub node_uuid: Option<Uuid>,
    pub device_type: String,
    pub state: String,
    pub resource_uri: String,
    pub properties: serde_json::Value,
}

/// Changes to a device: `None` leaves a field alone; `Some(None)` detaches it from its node.
#[derive(Debug, Clone, Default)]
pub struct DeviceUpdate {
    pub node_uuid: Option<Option<Uuid>>,
    pub device_type: Option<String>,
    pub state: Option<String>,
    pub resource_uri: Option<String>,
    pub properties: Option<serde_json::Value>,
}

/// Which devices to list; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub podm_uuid: Option<Uuid>,
    pub node_uuid: Option<Uuid>,
    pub device_type: Option<String>,
    pub state: Option<String>,
}

#[derive(Queryable)]
struct DeviceRow {
    uuid: String,
    podm_uuid: String,
    node_uuid: Option<String>,
    device_type: String,
    state: String,
    resource_uri: String,
    properties: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<DeviceRow> for Device {
    type Error = DbError;

    fn try_from(row: DeviceRow) -> Result<Self, DbError> {
        Ok(Device {
            uuid: parse_uuid(ENTITY, "uuid", &row.uuid)?,
            podm_uuid: parse_uuid(ENTITY, "podm_uuid", &row.podm_uuid)?,
            node_uuid: parse_optional_uuid(ENTITY, "node_uuid", row.node_uuid.as_deref())?,
            properties: parse_json(ENTITY, "properties", &row.properties)?,
            device_type: row.device_type,
            state: row.state,
            resource_uri: row.resource_uri,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = devices)]
struct NewDeviceRow<'a> {
    uuid: String,
    podm_uuid: String,
    node_uuid: Option<String>,
    device_type: &'a str,
    state: &'a str,
    resource_uri: &'a str,
    properties: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = devices)]
struct DeviceChangeset {
    node_uuid: Option<Option<String>>,
    device_type: Option<String>,
    state: Option<String>,
    resource_uri: Option<String>,
    properties: Option<String>,
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

/// Records a device with a new uuid; a second device at the same URI of the same PODM, or a
/// missing PODM or node, is a [`DbError::Conflict`].
pub fn create(conn: &mut DbConnection, new: &NewDevice) -> Result<Device, DbError> {
    let uuid = Uuid::new_v4();
    let now = utc_now();
    let row = NewDeviceRow {
        uuid: uuid.to_string(),
        podm_uuid: new.podm_uuid.to_string(),
        node_uuid: new.node_uuid.map(|node| node.to_string()),
        device_type: &new.device_type,
        state: &new.state,
        resource_uri: &new.resource_uri,
        properties: json_text(&new.properties),
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(devices::table)
        .values(&row)
        .execute(conn)
        .map_err(query_error)?;
    get(conn, uuid)
}

/// The device with this uuid, or `None`.
pub fn find(conn: &mut DbConnection, uuid: Uuid) -> Result<Option<Device>, DbError> {
    devices::table
        .find(uuid.to_string())
        .first::<DeviceRow>(conn)
        .optional()
        .map_err(query_error)?
        .map(Device::try_from)
        .transpose()
}

/// The device with this uuid, or [`DbError::NotFound`].
pub fn get(conn: &mut DbConnection, uuid: Uuid) -> Result<Device, DbError> {
    find(conn, uuid)?.ok_or_else(|| not_found(uuid))
}

/// The device at `resource_uri` on that PODM, if recorded (for inventory sync).
pub fn find_by_resource_uri(
    conn: &mut DbConnection,
    podm_uuid: Uuid,
    resource_uri: &str,
) -> Result<Option<Device>, DbError> {
    devices::table
        .filter(devices::podm_uuid.eq(podm_uuid.to_string()))
        .filter(devices::resource_uri.eq(resource_uri))
        .first::<DeviceRow>(conn)
        .optional()
        .map_err(query_error)?
        .map(Device::try_from)
        .transpose()
}

/// Devices matching `filter`, in creation order, one [`Page`] of them.
pub fn list(
    conn: &mut DbConnection,
    filter: &DeviceFilter,
    page: Page,
) -> Result<Vec<Device>, DbError> {
    let mut query = devices::table.into_boxed();
    if let Some(podm_uuid) = filter.podm_uuid {
        query = query.filter(devices::podm_uuid.eq(podm_uuid.to_string()));
    }
    if let Some(node_uuid) = filter.node_uuid {
        query = query.filter(devices::node_uuid.eq(node_uuid.to_string()));
    }
    if let Some(device_type) = &filter.device_type {
        query = query.filter(devices::device_type.eq(device_type.clone()));
    }
    if let Some(state) = &filter.state {
        query = query.filter(devices::state.eq(state.clone()));
    }
    let query = apply_page!(query, devices, page, conn, ENTITY);
    query
        .load::<DeviceRow>(conn)
        .map_err(query_error)?
        .into_iter()
        .map(Device::try_from)
        .collect()
}

/// The devices of one PODM, one [`Page`] of them.
pub fn list_by_podm(
    conn: &mut DbConnection,
    podm_uuid: Uuid,
    page: Page,
) -> Result<Vec<Device>, DbError> {
    list(
        conn,
        &DeviceFilter {
            podm_uuid: Some(podm_uuid),
            ..DeviceFilter::default()
        },
        page,
    )
}

/// Applies `changes` and bumps `updated_at`; returns the updated row.
pub fn update(
    conn: &mut DbConnection,
    uuid: Uuid,
    changes: &DeviceUpdate,
) -> Result<Device, DbError> {
    let changeset = DeviceChangeset {
        node_uuid: changes
            .node_uuid
            .map(|node| node.map(|node| node.to_string())),
        device_type: changes.device_type.clone(),
        state: changes.state.clone(),
        resource_uri: changes.resource_uri.clone(),
        properties: changes.properties.as_ref().map(json_text),
        updated_at: utc_now(),
    };
    let updated = diesel::update(devices::table.find(uuid.to_string()))
        .set(changeset)
        .execute(conn)
        .map_err(query_error)?;
    if updated == 0 {
        return Err(not_found(uuid));
    }
    get(conn, uuid)
}

/// Deletes the device's row.
pub fn delete(conn: &mut DbConnection, uuid: Uuid) -> Result<(), DbError> {
    let deleted = diesel::delete(devices::table.find(uuid.to_string()))
        .execute(conn)
        .map_err(query_error)?;
    if deleted == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}
