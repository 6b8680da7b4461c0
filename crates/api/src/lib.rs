//! Northbound REST API compatible with OpenStack Valence: routes, request/response DTOs, error mapping and OpenAPI.

pub mod background;
pub mod context;
pub mod convert;
pub mod error;
pub mod extract;
pub mod paging;
pub mod routes;
pub mod service;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use context::RequestId;
pub use error::{ApiError, ErrorCode};
pub use state::{AppState, Settings};

/// Largest request body accepted; PODM registrations with a CA bundle are the biggest bodies.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

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
        .routes(routes!(routes::flavors::list, routes::flavors::create))
        .routes(routes!(
            routes::flavors::show,
            routes::flavors::update,
            routes::flavors::delete
        ))
        .split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    router
        // Upstream Valence spelled the collection both ways.
        .route(
            "/v1/podmanagers",
            axum::routing::get(routes::pod_managers::list).post(routes::pod_managers::create),
        )
        .route(
            "/v1/podmanagers/{uuid}",
            axum::routing::get(routes::pod_managers::show)
                .patch(routes::pod_managers::update)
                .delete(routes::pod_managers::delete),
        )
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
