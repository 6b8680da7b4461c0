//! `/v1/nodes`: compose (scheduler-placed or on a named PODM), list, detail, decompose, actions, adopt.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use valence_client::types::{Node, NodeAction, NodeCompose, NodeDetail, NodeManage};

use crate::AppState;
use crate::convert;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::{ValidJson, ValidQuery, parse_uuid};
use crate::paging::db_page;
use crate::routes::within_podm_budget;
use crate::service::nodes::{self, ComposeOutcome};

/// Header that makes a compose request safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    podm_id: Option<String>,
    /// `allocating`, `assembling`, `ready`, `failed` or `deleting`.
    state: Option<String>,
    name: Option<String>,
    /// `valence` or `user`.
    managed_by: Option<String>,
    flavor_id: Option<String>,
    limit: Option<u32>,
    /// Uuid of the last node of the previous page.
    marker: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ComposeQuery {
    /// Return the scheduler's decision and explanation; compose nothing.
    #[serde(default)]
    dry_run: bool,
}

fn query_uuid(name: &str, value: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(value.trim()).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("query parameter {name}: {value:?} is not an id"),
        )
    })
}

fn query_enum<T: std::str::FromStr>(name: &str, value: &str, allowed: &str) -> Result<T, ApiError> {
    value.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("query parameter {name}: {value:?} is not one of {allowed}"),
        )
    })
}

#[utoipa::path(get, path = "/v1/nodes", operation_id = "list_nodes", tag = "nodes", params(ListQuery),
    responses((status = 200, body = Vec<Node>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<axum::Json<Vec<Node>>, ApiError> {
    let filter = valence_db::NodeFilter {
        podm_uuid: q
            .podm_id
            .as_deref()
            .map(|v| query_uuid("podm_id", v))
            .transpose()?,
        state: q
            .state
            .as_deref()
            .map(|v| {
                query_enum(
                    "state",
                    v,
                    "allocating, assembling, ready, failed, deleting",
                )
            })
            .transpose()?,
        name: q.name,
        managed_by: q
            .managed_by
            .as_deref()
            .map(|v| query_enum("managed_by", v, "valence, user"))
            .transpose()?,
        flavor_uuid: q
            .flavor_id
            .as_deref()
            .map(|v| query_uuid("flavor_id", v))
            .transpose()?,
    };
    let page = db_page(q.limit, q.marker.as_deref())?;
    let rows = state
        .db
        .run(move |conn| valence_db::nodes::list(conn, &filter, page))
        .await?;
    Ok(axum::Json(rows.into_iter().map(convert::node).collect()))
}

#[utoipa::path(post, path = "/v1/nodes", operation_id = "compose_node", tag = "nodes", params(ComposeQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "A retried request with the same key returns the first request's node")),
    request_body = NodeCompose,
    responses((status = 202, body = Node, description = "Recorded; composing in the background (follow `state`)"),
        (status = 200, body = Object, description = "dry_run: the placement decision, or the node of an earlier request with this Idempotency-Key"),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody, description = "No valid PODM; `rejected` explains each")))]
pub async fn compose(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<ComposeQuery>,
    headers: HeaderMap,
    ValidJson(body): ValidJson<NodeCompose>,
) -> Result<Response, ApiError> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(value) => {
            let text = value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 255);
            Some(
                text.ok_or_else(|| {
                    ApiError::bad_request(
                        "header Idempotency-Key: must be 1 to 255 visible characters",
                    )
                })?
                .to_owned(),
            )
        }
    };
    Ok(match nodes::compose(&state, body, q.dry_run, key).await? {
        ComposeOutcome::Planned(placement) => axum::Json(placement).into_response(),
        ComposeOutcome::Existing(node) => axum::Json(node).into_response(),
        ComposeOutcome::Started(node) => {
            let location = HeaderValue::from_str(&format!("/v1/nodes/{}", node.uuid)).ok();
            let mut response = (StatusCode::ACCEPTED, axum::Json(node)).into_response();
            if let Some(location) = location {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
    })
}

#[utoipa::path(get, path = "/v1/nodes/{uuid}", operation_id = "show_node", tag = "nodes", params(("uuid" = String, Path)),
    responses((status = 200, body = NodeDetail), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<NodeDetail>, ApiError> {
    let uuid = parse_uuid("node", &uuid)?;
    Ok(axum::Json(nodes::detail(&state, uuid).await?))
}

#[utoipa::path(delete, path = "/v1/nodes/{uuid}", operation_id = "delete_node", tag = "nodes", params(("uuid" = String, Path)),
    responses((status = 204, description = "Released on the PODM and forgotten"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Still being composed"), (status = 502, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let uuid = parse_uuid("node", &uuid)?;
    let row = nodes::get_row(&state, uuid).await?;
    nodes::decompose(&state, row).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/nodes/{uuid}/action", operation_id = "node_action", tag = "nodes", params(("uuid" = String, Path)), request_body = NodeAction,
    responses((status = 204, description = "Done"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "The PODM refused the value"),
        (status = 502, body = ErrorBody, description = "The PODM failed or could not be reached"),
        (status = 504, body = ErrorBody, description = "The PODM did not finish within `podm.request_timeout`")))]
pub async fn action(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    ValidJson(body): ValidJson<NodeAction>,
) -> Result<StatusCode, ApiError> {
    let uuid = parse_uuid("node", &uuid)?;
    within_podm_budget(&state, "the action", nodes::action(&state, uuid, body)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/nodes/manage", operation_id = "manage_node", tag = "nodes", request_body = NodeManage,
    responses((status = 201, body = Node), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The PODM failed or could not be reached"),
        (status = 504, body = ErrorBody, description = "The PODM did not list its nodes within `podm.request_timeout`")))]
pub async fn manage(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<NodeManage>,
) -> Result<(StatusCode, axum::Json<Node>), ApiError> {
    let node = within_podm_budget(&state, "listing its nodes", nodes::manage(&state, body)).await?;
    Ok((StatusCode::CREATED, axum::Json(node)))
}
