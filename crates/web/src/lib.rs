//! Valence web console: server-rendered HTML pages under `/ui`, over the same services as the
//! REST API (`valence_api::service`), so the console has no business logic of its own.
//!
//! How it is built:
//! - Pages are rendered on the server with maud, which escapes every spliced value; nothing in
//!   this crate uses `PreEscaped` on text from a user or a PODM.
//! - Every form works without JavaScript (POST, then a `303 See Other` to the result page, or
//!   the form again with the error shown inline). The vendored htmx only adds partial updates:
//!   the compose preview and the live progress of a node.
//! - Assets are embedded in the binary ([`assets`]); pages fetch nothing from elsewhere (a
//!   Content-Security-Policy of `'self'` enforces it).
//! - Cross-site request forgery: every state-changing request must come from a page of this
//!   origin ([`csrf`]).
//! - PODM passwords are write-only: no page renders one, not even masked in an input's value.
//!
//! Authentication: the API's token check (`valence_api::auth::require_token`) guards every
//! page; a browser signs in once at `/ui/login` and the token is kept in an HttpOnly,
//! same-site cookie that only console paths accept. [`router`] returns a plain `Router` meant
//! to be merged with `valence_api::router`.

pub mod assets;
pub mod csrf;
pub mod error;
mod form;
mod layout;
mod pages;
mod render;

use axum::Router;
use axum::routing::{get, post};
use valence_api::AppState;

pub use error::WebError;

/// The path every page of the console lives under.
pub const PREFIX: &str = "/ui";

/// The console: every page under `/ui`, its assets, and an HTML 404 for unknown `/ui` paths.
///
/// It has no fallback of its own, so it can be merged with `valence_api::router(state)`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ui", get(pages::home))
        .route("/ui/", get(pages::home))
        .route("/ui/assets/{name}", get(assets::serve))
        .route(
            "/ui/login",
            get(pages::login::form).post(pages::login::sign_in),
        )
        .route("/ui/logout", post(pages::login::sign_out))
        .route("/ui/pod_managers", get(pages::podms::list))
        .route(
            "/ui/pod_managers/new",
            get(pages::podms::new_form).post(pages::podms::register),
        )
        .route(
            "/ui/pod_managers/{uuid}",
            get(pages::podms::show).post(pages::podms::edit),
        )
        .route(
            "/ui/pod_managers/{uuid}/state",
            post(pages::podms::set_state),
        )
        .route(
            "/ui/pod_managers/{uuid}/delete",
            get(pages::podms::delete_form).post(pages::podms::delete),
        )
        .route("/ui/systems", get(pages::systems::list))
        .route(
            "/ui/nodes",
            get(pages::nodes::list).post(pages::compose::compose),
        )
        .route("/ui/nodes/new", get(pages::compose::form))
        .route("/ui/nodes/preview", post(pages::compose::preview))
        .route("/ui/nodes/{uuid}", get(pages::nodes::show))
        .route("/ui/nodes/{uuid}/reset", post(pages::nodes::reset))
        .route("/ui/nodes/{uuid}/boot", post(pages::nodes::boot))
        .route(
            "/ui/nodes/{uuid}/decompose",
            get(pages::nodes::decompose_form).post(pages::nodes::decompose),
        )
        .route(
            "/ui/flavors",
            get(pages::flavors::list).post(pages::flavors::create),
        )
        .route("/ui/flavors/{uuid}/delete", post(pages::flavors::delete))
        .route("/ui/{*rest}", axum::routing::any(pages::not_found))
        .method_not_allowed_fallback(pages::method_not_allowed)
        // The API's own token check: the console needs the same tokens (kept in a cookie).
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            valence_api::auth::require_token,
        ))
        .layer(axum::middleware::from_fn(csrf::same_origin))
        .layer(axum::middleware::from_fn(error::render_error_pages))
        .layer(axum::middleware::from_fn(render::security_headers))
        .layer(axum::middleware::from_fn(
            valence_api::context::request_context,
        ))
        .with_state(state)
}
