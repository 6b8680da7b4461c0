//! Static files of the console, embedded in the binary: no CDN, no external font, nothing
//! fetched at run time.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

/// htmx 2.0.11, vendored (see `assets/SOURCE.md`).
pub const HTMX_JS: &[u8] = include_bytes!("../assets/htmx.min.js");
pub const STYLE_CSS: &str = include_str!("../assets/style.css");

/// URL of the stylesheet; the version in the query makes browsers fetch it again after an
/// upgrade despite caching.
pub const STYLE_URL: &str = concat!("/ui/assets/style.css?v=", env!("CARGO_PKG_VERSION"));
pub const HTMX_URL: &str = concat!("/ui/assets/htmx.min.js?v=", env!("CARGO_PKG_VERSION"));

/// `GET /ui/assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &str) = match name.as_str() {
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE_CSS.as_bytes(), "text/css; charset=utf-8"),
        _ => return WebError::NotFound(format!("/ui/assets/{name}")).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
