//! `/v1/systems`: the systems of every PODM, tagged with their PODM.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use valence_client::types::System;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::ValidQuery;
use crate::routes::failed_podms_header;
use crate::service::systems::{self, SystemFilter};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only the systems of this PODM.
    podm_id: Option<String>,
    min_cores: Option<u32>,
    min_memory_mib: Option<u64>,
    /// Only systems not part of a composed node.
    #[serde(default)]
    free: bool,
    /// Read the PODMs now instead of the cache.
    #[serde(default)]
    refresh: bool,
    limit: Option<u32>,
    /// Id of the last system of the previous page.
    marker: Option<String>,
}

#[utoipa::path(get, path = "/v1/systems", operation_id = "list_systems", tag = "systems", params(ListQuery),
    responses((status = 200, body = Vec<System>, description = "Systems of the PODMs that answered; `Valence-Failed-Podms` names the others"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let podm = q
        .podm_id
        .as_deref()
        .map(|v| {
            uuid::Uuid::parse_str(v.trim()).map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("query parameter podm_id: {v:?} is not an id"),
                )
            })
        })
        .transpose()?;
    let filter = SystemFilter {
        podm,
        min_cores: q.min_cores,
        min_memory_mib: q.min_memory_mib,
        free_only: q.free,
    };
    let (systems, failed) =
        systems::list(&state, &filter, q.refresh, q.limit, q.marker.as_deref()).await?;
    Ok((failed_podms_header(&failed), axum::Json(systems)).into_response())
}

#[utoipa::path(get, path = "/v1/systems/{id}", operation_id = "show_system", tag = "systems",
    params(("id" = String, Path, description = "`<podm uuid>:<system id>`, or a PODM's system id when only one PODM has it")),
    responses((status = 200, body = System), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Ambiguous system id"),
        (status = 502, body = ErrorBody, description = "The system's PODM did not answer")))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<System>, ApiError> {
    Ok(axum::Json(systems::show(&state, &id).await?))
}
