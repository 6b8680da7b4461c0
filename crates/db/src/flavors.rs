//! Flavors: named requirement sets a compose request can refer to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::paging::{Page, apply_page, json_text, parse_json, parse_uuid};
use crate::schema::flavors;
use crate::types::utc_now;

const ENTITY: &str = "flavor";

/// A flavor.
#[derive(Debug, Clone, PartialEq)]
pub struct Flavor {
    pub uuid: Uuid,
    /// Unique.
    pub name: String,
    pub description: Option<String>,
    /// The requirements (JSON object).
    pub properties: serde_json::Value,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What is needed to create a flavor.
#[derive(Debug, Clone)]
pub struct NewFlavor {
    pub name: String,
    pub description: Option<String>,
    pub properties: serde_json::Value,
}

/// Changes to a flavor: `None` leaves a field alone; `Some(None)` clears the description.
#[derive(Debug, Clone, Default)]
pub struct FlavorUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub properties: Option<serde_json::Value>,
}

/// Which flavors to list.
#[derive(Debug, Clone, Default)]
pub struct FlavorFilter {
    pub name: Option<String>,
}

#[derive(Queryable)]
struct FlavorRow {
    uuid: String,
    name: String,
    description: Option<String>,
    properties: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<FlavorRow> for Flavor {
    type Error = DbError;

    fn try_from(row: FlavorRow) -> Result<Self, DbError> {
        Ok(Flavor {
            uuid: parse_uuid(ENTITY, "uuid", &row.uuid)?,
            properties: parse_json(ENTITY, "properties", &row.properties)?,
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = flavors)]
struct NewFlavorRow<'a> {
    uuid: String,
    name: &'a str,
    description: Option<&'a str>,
    properties: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = flavors)]
struct FlavorChangeset {
    name: Option<String>,
    description: Option<Option<String>>,
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

/// Creates a flavor with a new uuid; a taken name is a [`DbError::Conflict`].
pub fn create(conn: &mut DbConnection, new: &NewFlavor) -> Result<Flavor, DbError> {
    let uuid = Uuid::new_v4();
    let now = utc_now();
    let row = NewFlavorRow {
        uuid: uuid.to_string(),
        name: &new.name,
        description: new.description.as_deref(),
        properties: json_text(&new.properties),
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(flavors::table)
        .values(&row)
        .execute(conn)
        .map_err(query_error)?;
    get(conn, uuid)
}

/// The flavor with this uuid, or `None`.
pub fn find(conn: &mut DbConnection, uuid: Uuid) -> Result<Option<Flavor>, DbError> {
    flavors::table
        .find(uuid.to_string())
        .first::<FlavorRow>(conn)
        .optional()
        .map_err(query_error)?
        .map(Flavor::try_from)
        .transpose()
}

/// The flavor with this uuid, or [`DbError::NotFound`].
pub fn get(conn: &mut DbConnection, uuid: Uuid) -> Result<Flavor, DbError> {
    find(conn, uuid)?.ok_or_else(|| not_found(uuid))
}

/// Flavors matching `filter`, in creation order, one [`Page`] of them.
pub fn list(
    conn: &mut DbConnection,
    filter: &FlavorFilter,
    page: Page,
) -> Result<Vec<Flavor>, DbError> {
    let mut query = flavors::table.into_boxed();
    if let Some(name) = &filter.name {
        query = query.filter(flavors::name.eq(name.clone()));
    }
    let query = apply_page!(query, flavors, page, conn, ENTITY);
    query
        .load::<FlavorRow>(conn)
        .map_err(query_error)?
        .into_iter()
        .map(Flavor::try_from)
        .collect()
}

/// Applies `changes` and bumps `updated_at`; returns the updated row.
pub fn update(
    conn: &mut DbConnection,
    uuid: Uuid,
    changes: &FlavorUpdate,
) -> Result<Flavor, DbError> {
    let changeset = FlavorChangeset {
        name: changes.name.clone(),
        description: changes.description.clone(),
        properties: changes.properties.as_ref().map(json_text),
        updated_at: utc_now(),
    };
    let updated = diesel::update(flavors::table.find(uuid.to_string()))
        .set(changeset)
        .execute(conn)
        .map_err(query_error)?;
    if updated == 0 {
        return Err(not_found(uuid));
    }
    get(conn, uuid)
}

/// Deletes the flavor. Nodes keep the uuid they were composed with.
pub fn delete(conn: &mut DbConnection, uuid: Uuid) -> Result<(), DbError> {
    let deleted = diesel::delete(flavors::table.find(uuid.to_string()))
        .execute(conn)
        .map_err(query_error)?;
    if deleted == 0 {
        return Err(not_found(uuid));
    }
    Ok(())
}
