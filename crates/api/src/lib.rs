//! Northbound REST API compatible with OpenStack Valence: routes, request/response DTOs, error mapping and OpenAPI.

pub mod auth;
pub mod background;
pub mod context;
pub mod convert;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod paging;
pub mod rendered;
pub mod routes;
pub mod secrets;
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
    components(schemas(error::ErrorBody, error::ErrorCode)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Completes the generated document (operation ids are set on each handler, unique): the routes
/// registered outside `routes!` are added, so the document lists every route the server answers:
/// upstream's `/v1/podmanagers` spelling (the same operations, deprecated, ids suffixed) and the
/// document itself.
fn document_extra_routes(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::{Deprecated, ResponseBuilder};
    for (canonical, alias) in [
        ("/v1/pod_managers", "/v1/podmanagers"),
        ("/v1/pod_managers/{uuid}", "/v1/podmanagers/{uuid}"),
    ] {
        let Some(mut item) = openapi.paths.paths.get(canonical).cloned() else {
            continue;
        };
        for operation in operations_mut(&mut item) {
            operation.deprecated = Some(Deprecated::True);
            if let Some(id) = operation.operation_id.as_mut() {
                id.push_str("_podmanagers");
            }
        }
        openapi.paths.paths.insert(alias.to_owned(), item);
    }
    openapi.paths.add_path_operation(
        "/v1/openapi.json",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .operation_id(Some("root_openapi"))
            .tag("root")
            .summary(Some("This OpenAPI 3 document"))
            .response(
                "200",
                ResponseBuilder::new().description("The OpenAPI document (JSON)"),
            )
            .build(),
    );
    openapi
}

/// Declares the bearer-token scheme (`Authorization: Bearer <token>`) in the document.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::root::root))
        .routes(routes!(routes::root::v1))
        .routes(routes!(routes::root::healthz))
        .routes(routes!(routes::root::readyz))
        .routes(routes!(routes::metrics::metrics))
        .routes(routes!(routes::root::runtime))
        .routes(routes!(routes::flavors::list, routes::flavors::create))
        .routes(routes!(
            routes::flavors::show,
            routes::flavors::update,
            routes::flavors::delete
        ))
        .routes(routes!(
            routes::pod_managers::list,
            routes::pod_managers::create
        ))
        .routes(routes!(
            routes::pod_managers::show,
            routes::pod_managers::update,
            routes::pod_managers::delete
        ))
        .routes(routes!(routes::nodes::list, routes::nodes::compose))
        .routes(routes!(routes::nodes::show, routes::nodes::delete))
        .routes(routes!(routes::nodes::action))
        .routes(routes!(routes::nodes::manage))
        .routes(routes!(routes::systems::list))
        .routes(routes!(routes::systems::show))
        .routes(routes!(routes::devices::list))
        .routes(routes!(routes::devices::show))
        .routes(routes!(routes::devices::sync))
        .split_for_parts();
    (router, document_extra_routes(openapi))
}

/// The OpenAPI document of the API, as served at `/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().1
}

/// The whole API: routes, error fallbacks, request ids and the OpenAPI document.
pub fn router(state: AppState) -> Router {
    let (router, openapi) = api_routes();
    // Rendered once: the document does not change while the server runs.
    let openapi_json = axum::body::Bytes::from(serde_json::to_vec(&openapi).unwrap_or_default());
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(
        state.settings.max_concurrent_requests.max(1),
    ));
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
                let body = openapi_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this method is not allowed on this resource",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.rendered.clone(),
            rendered::invalidate_on_write,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            limit,
            context::limit_concurrency,
        ))
        // Inside the request's span (its log line carries the request id), outside the limit
        // (refusals for overload are counted too).
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::http::observe,
        ))
        .layer(axum::middleware::from_fn(context::request_context))
        .with_state(state)
}
