//! `GET /metrics`: the server's Prometheus metrics (see `crate::metrics` and
//! docs/OPERATIONS.md). Protected like the rest of the API when tokens are configured: a
//! `reader` token is enough.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

#[utoipa::path(get, path = "/metrics", tag = "root",
    responses((status = 200, content_type = "application/openmetrics-text", body = String,
        description = "Prometheus metrics (OpenMetrics text format)"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = crate::metrics::render(&state)
        .await
        .map_err(|err| ApiError::internal(format!("cannot render the metrics: {err}")))?;
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}
