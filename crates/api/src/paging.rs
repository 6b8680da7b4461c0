//! OpenStack-style paging (`limit`, `marker` = the last item's id) shared by the list routes.

use crate::error::{ApiError, ErrorCode};

/// Largest page a client may ask for; bigger `limit`s are cut to it.
pub const MAX_LIMIT: u32 = 1000;

/// A page of a database list; without `limit` and `marker` the whole list, as upstream did.
pub fn db_page(limit: Option<u32>, marker: Option<&str>) -> Result<valence_db::Page, ApiError> {
    let marker = marker
        .map(|m| {
            uuid::Uuid::parse_str(m).map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("query parameter marker: {m:?} is not an id of this list"),
                )
            })
        })
        .transpose()?;
    Ok(valence_db::Page {
        limit: checked_limit(limit)?,
        marker,
    })
}

pub fn checked_limit(limit: Option<u32>) -> Result<Option<u32>, ApiError> {
    match limit {
        Some(0) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "query parameter limit: must be at least 1",
        )),
        Some(n) => Ok(Some(n.min(MAX_LIMIT))),
        None => Ok(None),
    }
}

/// Pages an in-memory list sorted by `id`: items after `marker`, at most `limit`.
pub fn page_by_id<T>(
    items: Vec<T>,
    limit: Option<u32>,
    marker: Option<&str>,
    id: impl Fn(&T) -> &str,
) -> Result<Vec<T>, ApiError> {
    let limit = checked_limit(limit)?;
    let start = match marker {
        None => 0,
        Some(m) => match items.iter().position(|item| id(item) == m) {
            Some(i) => i + 1,
            None => {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("query parameter marker: {m:?} is not an id of this list"),
                ));
            }
        },
    };
    let take = limit.map_or(usize::MAX, |n| n as usize);
    Ok(items.into_iter().skip(start).take(take).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_marker_and_cap_the_limit() {
        let items: Vec<String> = (0..5).map(|i| format!("id{i}")).collect();
        let page = page_by_id(items.clone(), Some(2), Some("id1"), |s| s).unwrap();
        assert_eq!(page, vec!["id2".to_string(), "id3".to_string()]);
        assert_eq!(
            page_by_id(items.clone(), None, None, |s| s).unwrap().len(),
            5
        );
        assert!(
            page_by_id(items.clone(), Some(1), Some("nope"), |s| s)
                .unwrap_err()
                .detail
                .contains("marker")
        );
        assert!(
            page_by_id(items, Some(0), None, |s| s)
                .unwrap_err()
                .detail
                .contains("limit")
        );
        assert_eq!(checked_limit(Some(1_000_000)).unwrap(), Some(MAX_LIMIT));
        assert!(db_page(None, Some("x")).is_err());
    }
}
