//! `/v1/flavors`: named requirement sets used by compose requests.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use valence_client::types::{Flavor, FlavorCreate, FlavorUpdate};

use crate::AppState;
use crate::convert;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ValidJson, ValidQuery};
use crate::paging::db_page;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlavorQuery {
    /// Only the flavor of this name.
    name: Option<String>,
    limit: Option<u32>,
    /// Id of the last flavor of the previous page.
    marker: Option<String>,
}

/// A flavor by uuid, or by name when `id` is not a uuid (compose requests name flavors either way).
pub async fn find_flavor(state: &AppState, id: &str) -> Result<valence_db::Flavor, ApiError> {
    let key = id.to_owned();
    let found = state
        .db
        .run(move |conn| match uuid::Uuid::parse_str(&key) {
            Ok(uuid) => valence_db::flavors::find(conn, uuid),
            Err(_) => {
                let filter = valence_db::FlavorFilter {
                    name: Some(key.clone()),
                };
                Ok(
                    valence_db::flavors::list(conn, &filter, valence_db::Page::default())?
                        .into_iter()
                        .next(),
                )
            }
        })
        .await?;
    found.ok_or_else(|| ApiError::not_found("flavor", id))
}

fn validate_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if name.len() > 255 {
        return Err(ApiError::invalid_field(
            "name",
            "must be at most 255 characters",
        ));
    }
    Ok(())
}

fn properties_json(
    properties: &valence_pod_manager_api::Requirements,
) -> Result<serde_json::Value, ApiError> {
    properties
        .validate()
        .map_err(|e| ApiError::invalid_field(&format!("properties.{}", e.field), e.reason))?;
    serde_json::to_value(properties)
        .map_err(|e| ApiError::internal(format!("cannot store properties: {e}")))
}

#[utoipa::path(get, path = "/v1/flavors", operation_id = "list_flavors", tag = "flavors", params(FlavorQuery),
    responses((status = 200, body = Vec<Flavor>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<FlavorQuery>,
) -> Result<axum::Json<Vec<Flavor>>, ApiError> {
    let page = db_page(q.limit, q.marker.as_deref())?;
    let filter = valence_db::FlavorFilter { name: q.name };
    let rows = state
        .db
        .run(move |conn| valence_db::flavors::list(conn, &filter, page))
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(convert::flavor)
            .collect::<Result<_, _>>()?,
    ))
}

#[utoipa::path(post, path = "/v1/flavors", operation_id = "create_flavor", tag = "flavors", request_body = FlavorCreate,
    responses((status = 201, body = Flavor), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<FlavorCreate>,
) -> Result<(StatusCode, axum::Json<Flavor>), ApiError> {
    validate_name(&body.name)?;
    let new = valence_db::NewFlavor {
        name: body.name.trim().to_owned(),
        description: body.description,
        properties: properties_json(&body.properties)?,
    };
    let row = state
        .db
        .run(move |conn| valence_db::flavors::create(conn, &new))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(convert::flavor(row)?)))
}

#[utoipa::path(get, path = "/v1/flavors/{id}", operation_id = "show_flavor", tag = "flavors",
    params(("id" = String, Path, description = "Flavor uuid or name")),
    responses((status = 200, body = Flavor), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Flavor>, ApiError> {
    Ok(axum::Json(convert::flavor(
        find_flavor(&state, &id).await?,
    )?))
}

#[utoipa::path(patch, path = "/v1/flavors/{id}", operation_id = "update_flavor", tag = "flavors", request_body = FlavorUpdate,
    params(("id" = String, Path, description = "Flavor uuid or name")),
    responses((status = 200, body = Flavor), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<FlavorUpdate>,
) -> Result<axum::Json<Flavor>, ApiError> {
    if let Some(name) = &body.name {
        validate_name(name)?;
    }
    let changes = valence_db::FlavorUpdate {
        name: body.name.map(|n| n.trim().to_owned()),
        description: body.description.map(Some),
        properties: body.properties.as_ref().map(properties_json).transpose()?,
    };
    let uuid = find_flavor(&state, &id).await?.uuid;
    let row = state
        .db
        .run(move |conn| valence_db::flavors::update(conn, uuid, &changes))
        .await?;
    Ok(axum::Json(convert::flavor(row)?))
}

#[utoipa::path(delete, path = "/v1/flavors/{id}", operation_id = "delete_flavor", tag = "flavors",
    params(("id" = String, Path, description = "Flavor uuid or name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let uuid = find_flavor(&state, &id).await?.uuid;
    state
        .db
        .run(move |conn| valence_db::flavors::delete(conn, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
