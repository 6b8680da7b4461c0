//! Northbound REST API compatible with OpenStack Valence: routes, request/response DTOs, error mapping and OpenAPI.

pub mod context;
pub mod error;
pub mod extract;
pub mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use context::RequestId;
pub use error::{ApiError, ErrorCode};

/// Largest request body accepted; PODM registrations with a CA bundle are the biggest bodies.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: valence_db::Db,
    /// Used in links when a request carries no `Host` header.
    pub public_host: String,
    pub public_scheme: &'static str,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Valence API",
        description = "Composable infrastructure over many Redfish pod managers (OpenStack Valence compatible)."
    ),
    components(schemas(error::ErrorBody, error::ErrorCode))
)]
struct ApiDoc;

/// The whole API: routes, error fallbacks, request ids and the OpenAPI document.
pub fn router(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::root::root))
        .routes(routes!(routes::root::v1))
        .split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this method is not allowed on this resource",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(context::request_context))
        .with_state(state)
}
