//! OpenStack-style paging (`limit` + `marker`) shared by every list, and the conversions
//! between stored text and typed values that every table needs.

use std::str::FromStr;

use uuid::Uuid;

use crate::error::DbError;
use crate::types::UnknownVariant;

/// One page of a list: at most `limit` rows after the row whose uuid is `marker`.
///
/// Lists are ordered by `(created_at, uuid)`, a stable key, so following `marker` = the last
/// uuid of each page returns every row exactly once. The default (no limit, no marker) is the
/// whole list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// Most rows to return.
    pub limit: Option<u32>,
    /// The last uuid of the previous page; it must name an existing row of that table.
    pub marker: Option<Uuid>,
}

impl Page {
    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Page {
        Page {
            limit: Some(limit),
            marker: None,
        }
    }

    /// The page of `limit` rows after `marker`.
    pub fn after(marker: Uuid, limit: u32) -> Page {
        Page {
            limit: Some(limit),
            marker: Some(marker),
        }
    }
}

/// Applies a [`Page`] to a boxed query on `$table`: resolves the marker (in `$conn`) to its
/// `(created_at, uuid)`, keeps rows after it, orders by that key and limits.
macro_rules! apply_page {
    ($query:expr, $table:ident, $page:expr, $conn:expr, $entity:expr) => {{
        let mut query = $query;
        let page: $crate::paging::Page = $page;
        if let Some(marker) = page.marker {
            let (marker_created_at, marker_uuid): (chrono::NaiveDateTime, String) = $table::table
                .find(marker.to_string())
                .select(($table::created_at, $table::uuid))
                .first($conn)
                .optional()
                .map_err(|error| $crate::error::DbError::from_query($entity, error))?
                .ok_or($crate::error::DbError::MarkerNotFound {
                    entity: $entity,
                    marker,
                })?;
            // The first condition alone lets an index on (created_at, uuid) bound the scan.
            query = query
                .filter($table::created_at.ge(marker_created_at))
                .filter(
                    $table::created_at
                        .gt(marker_created_at)
                        .or($table::uuid.gt(marker_uuid)),
                );
        }
        query = query.order(($table::created_at.asc(), $table::uuid.asc()));
        if let Some(limit) = page.limit {
            query = query.limit(i64::from(limit));
        }
        query
    }};
}
pub(crate) use apply_page;

/// Reads a stored uuid.
pub(crate) fn parse_uuid(
    entity: &'static str,
    column: &'static str,
    text: &str,
) -> Result<Uuid, DbError> {
    Uuid::parse_str(text).map_err(|error| DbError::InvalidStoredValue {
        entity,
        column,
        reason: format!("`{text}` is not a uuid: {error}"),
    })
}

/// Reads a stored optional uuid.
pub(crate) fn parse_optional_uuid(
    entity: &'static str,
    column: &'static str,
    text: Option<&str>,
) -> Result<Option<Uuid>, DbError> {
    text.map(|text| parse_uuid(entity, column, text))
        .transpose()
}

/// Reads a stored text enum.
pub(crate) fn parse_text<T: FromStr<Err = UnknownVariant>>(
    entity: &'static str,
    column: &'static str,
    text: &str,
) -> Result<T, DbError> {
    text.parse()
        .map_err(|error: UnknownVariant| DbError::InvalidStoredValue {
            entity,
            column,
            reason: error.to_string(),
        })
}

/// Reads a stored JSON document.
pub(crate) fn parse_json(
    entity: &'static str,
    column: &'static str,
    text: &str,
) -> Result<serde_json::Value, DbError> {
    serde_json::from_str(text).map_err(|error| DbError::InvalidStoredValue {
        entity,
        column,
        reason: format!("not JSON: {error}"),
    })
}

/// The stored form of a JSON document. A `serde_json::Value` always serialises (its map keys
/// are strings), so this cannot fail.
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}
