//! `/v1/devices`: pooled devices recorded from the PODMs, and their sync.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use valence_client::types::{Device, DeviceSyncReport};

use crate::AppState;
use crate::convert;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::{ValidQuery, parse_uuid};
use crate::paging::db_page;
use crate::service::devices;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    podm_id: Option<String>,
    node_id: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    device_type: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    marker: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// Only this PODM.
    podm_id: Option<String>,
}

fn query_uuid(name: &str, value: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
    value
        .map(|v| {
            uuid::Uuid::parse_str(v.trim()).map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("query parameter {name}: {v:?} is not an id"),
                )
            })
        })
        .transpose()
}

#[utoipa::path(get, path = "/v1/devices", operation_id = "list_devices", tag = "devices", params(ListQuery),
    responses((status = 200, body = Vec<Device>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<axum::Json<Vec<Device>>, ApiError> {
    let filter = valence_db::DeviceFilter {
        podm_uuid: query_uuid("podm_id", q.podm_id.as_deref())?,
        node_uuid: query_uuid("node_id", q.node_id.as_deref())?,
        device_type: q.device_type,
        state: q.state,
    };
    let page = db_page(q.limit, q.marker.as_deref())?;
    let rows = state
        .db
        .run(move |conn| valence_db::devices::list(conn, &filter, page))
        .await?;
    Ok(axum::Json(rows.into_iter().map(convert::device).collect()))
}

#[utoipa::path(get, path = "/v1/devices/{uuid}", operation_id = "show_device", tag = "devices", params(("uuid" = String, Path)),
    responses((status = 200, body = Device), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Device>, ApiError> {
    let uuid = parse_uuid("device", &uuid)?;
    let row = state
        .db
        .run(move |conn| valence_db::devices::get(conn, uuid))
        .await?;
    Ok(axum::Json(convert::device(row)))
}

#[utoipa::path(post, path = "/v1/devices/sync", operation_id = "sync_devices", tag = "devices", params(SyncQuery),
    responses((status = 200, body = Vec<DeviceSyncReport>, description = "Per PODM: devices added, updated, removed, or the error"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<SyncQuery>,
) -> Result<axum::Json<Vec<DeviceSyncReport>>, ApiError> {
    let podm = query_uuid("podm_id", q.podm_id.as_deref())?;
    Ok(axum::Json(devices::sync(&state, podm).await?))
}
