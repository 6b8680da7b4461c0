//! Valence instances (servers sharing one database): each writes a heartbeat, so work left by
//! an instance that stopped beating can be taken over.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::instances;

const ENTITY: &str = "instance";

fn query_error(error: diesel::result::Error) -> DbError {
    DbError::from_query(ENTITY, error)
}

/// Records that instance `id` is alive at `now` (registering it the first time).
pub fn heartbeat(
    conn: &mut DbConnection,
    id: &str,
    hostname: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let updated = diesel::update(instances::table.find(id))
        .set(instances::heartbeat_at.eq(now))
        .execute(conn)
        .map_err(query_error)?;
    if updated == 0 {
        diesel::insert_into(instances::table)
            .values((
                instances::id.eq(id),
                instances::hostname.eq(hostname),
                instances::started_at.eq(now),
                instances::heartbeat_at.eq(now),
            ))
            .execute(conn)
            .map_err(query_error)?;
    }
    Ok(())
}

/// Ids of the instances that beat at or after `since`.
pub fn alive_since(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Vec<String>, DbError> {
    instances::table
        .filter(instances::heartbeat_at.ge(since))
        .select(instances::id)
        .order(instances::id.asc())
        .load::<String>(conn)
        .map_err(query_error)
}

/// Forgets instances silent since before `before` (their work has been taken over).
pub fn remove_silent(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    diesel::delete(instances::table.filter(instances::heartbeat_at.lt(before)))
        .execute(conn)
        .map_err(query_error)
}

/// Removes instance `id` (a clean shutdown).
pub fn remove(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::delete(instances::table.find(id))
        .execute(conn)
        .map_err(query_error)
        .map(drop)
}
