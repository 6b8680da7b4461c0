//! `/v1/pod_managers` (alias `/v1/podmanagers`): register, list with usage, show, update, safe delete.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use valence_client::types::{PodManager, PodManagerCreate, PodManagerDeletePlan, PodManagerUpdate};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ValidJson, ValidQuery, parse_uuid};
use crate::paging::page_by_id;
use crate::routes::failed_podms_header;
use crate::service::podms;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Read usage from the PODMs now instead of the cache.
    #[serde(default)]
    refresh: bool,
    /// `active`, `cordoned` or `deleting`.
    state: Option<String>,
    /// `Online`, `Offline` or `Unknown`.
    status: Option<String>,
    name: Option<String>,
    limit: Option<u32>,
    /// Uuid of the last PODM of the previous page.
    marker: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CreateQuery {
    /// Refuse to register a PODM that does not answer the probe.
    #[serde(default)]
    verify: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    #[serde(default)]
    refresh: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Decompose the nodes Valence made on the PODM first.
    #[serde(default)]
    release: bool,
    /// Say what would happen; change nothing.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(get, path = "/v1/pod_managers", operation_id = "list_pod_managers", tag = "pod_managers", params(ListQuery),
    responses((status = 200, body = Vec<PodManager>, description = "PODMs with usage; `Valence-Failed-Podms` names PODMs that did not answer a refresh"),
        (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Response, ApiError> {
    // Usage from the cache (not `refresh`) is the same for every caller: render it once.
    let key = raw.unwrap_or_default();
    if !q.refresh
        && let Some(body) = state.rendered.get(&key)
    {
        return Ok(json_body(body));
    }
    let generation = state.rendered.generation();
    let state_filter = q
        .state
        .as_deref()
        .map(|s| {
            s.parse::<valence_db::PodmState>().map_err(|_| {
                ApiError::new(
                    crate::ErrorCode::InvalidQuery,
                    format!("query parameter state: {s:?} is not active, cordoned or deleting"),
                )
            })
        })
        .transpose()?;
    let status_filter = q
        .status
        .as_deref()
        .map(|s| {
            s.parse::<valence_db::PodmStatus>().map_err(|_| {
                ApiError::new(
                    crate::ErrorCode::InvalidQuery,
                    format!("query parameter status: {s:?} is not Online, Offline or Unknown"),
                )
            })
        })
        .transpose()?;
    let rows = podms::all_rows(&state).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| state_filter.is_none_or(|s| r.state == s))
        .filter(|r| q.name.as_deref().is_none_or(|n| r.name == n))
        .collect();
    let (mut bodies, failed) = podms::list(&state, rows, q.refresh).await?;
    if let Some(status) = status_filter {
        bodies.retain(|b| b.status == status.as_str());
    }
    bodies.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    let bodies = page_by_id(bodies, q.limit, q.marker.as_deref(), |b| &b.uuid)?;
    if q.refresh {
        return Ok((failed_podms_header(&failed), axum::Json(bodies)).into_response());
    }
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&bodies)
            .map_err(|e| ApiError::internal(format!("cannot render the PODM list: {e}")))?,
    );
    state.rendered.put(&key, generation, body.clone());
    Ok(json_body(body))
}

fn json_body(body: axum::body::Bytes) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[utoipa::path(post, path = "/v1/pod_managers", operation_id = "create_pod_manager", tag = "pod_managers", params(CreateQuery), request_body = PodManagerCreate,
    responses((status = 201, body = PodManager), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "verify=true and the PODM did not answer")))]
pub async fn create(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<CreateQuery>,
    ValidJson(body): ValidJson<PodManagerCreate>,
) -> Result<(StatusCode, axum::Json<PodManager>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(podms::register(&state, body, q.verify).await?),
    ))
}

#[utoipa::path(get, path = "/v1/pod_managers/{uuid}", operation_id = "show_pod_manager", tag = "pod_managers", params(("uuid" = String, Path), ShowQuery),
    responses((status = 200, body = PodManager), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    ValidQuery(q): ValidQuery<ShowQuery>,
) -> Result<Response, ApiError> {
    let uuid = parse_uuid("pod manager", &uuid)?;
    let (body, failed) = podms::show(&state, uuid, q.refresh).await?;
    Ok((failed_podms_header(&failed), axum::Json(body)).into_response())
}

#[utoipa::path(patch, path = "/v1/pod_managers/{uuid}", operation_id = "update_pod_manager", tag = "pod_managers", params(("uuid" = String, Path)), request_body = PodManagerUpdate,
    responses((status = 200, body = PodManager), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    ValidJson(body): ValidJson<PodManagerUpdate>,
) -> Result<axum::Json<PodManager>, ApiError> {
    let uuid = parse_uuid("pod manager", &uuid)?;
    Ok(axum::Json(podms::update(&state, uuid, body).await?))
}

#[utoipa::path(delete, path = "/v1/pod_managers/{uuid}", operation_id = "delete_pod_manager", tag = "pod_managers", params(("uuid" = String, Path), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 200, body = PodManagerDeletePlan, description = "dry_run: what would happen"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Valence-made nodes remain (named in `nodes`)"),
        (status = 502, body = ErrorBody, description = "releasing a node failed; the PODM stays `deleting`")))]
pub async fn delete(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    ValidQuery(q): ValidQuery<DeleteQuery>,
) -> Result<Response, ApiError> {
    let uuid = parse_uuid("pod manager", &uuid)?;
    if q.dry_run {
        let plan: PodManagerDeletePlan = podms::plan_delete(&state, uuid, q.release).await?;
        return Ok(axum::Json(plan).into_response());
    }
    podms::delete(&state, uuid, q.release).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
