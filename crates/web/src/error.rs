//! The console's error type and how a failed request becomes an HTML page.
//!
//! Policy: a request that fails gets a full page (status as the API would answer, the title and
//! detail in words, the request id to quote), never a JSON body or a blank screen. A form whose
//! input is wrong is not an error page: the form comes back with the message next to the field.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use valence_api::{ApiError, RequestId};

/// Why a page could not be served.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebError {
    /// A service of the API refused or failed; its code gives the status.
    #[error("{0}")]
    Api(ApiError),
    /// The request itself is malformed (a form body or query that does not parse).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A state-changing request that did not come from a page of this site.
    #[error("cross-site request refused: {0}")]
    CrossSite(&'static str),
    #[error("no page at {0}")]
    NotFound(String),
    #[error("this page does not accept that method")]
    MethodNotAllowed,
}

impl From<ApiError> for WebError {
    fn from(err: ApiError) -> Self {
        WebError::Api(err)
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Api(err) => err.status(),
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::CrossSite(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            WebError::Api(err) => err.code.title(),
            WebError::BadRequest(_) => "Bad request",
            WebError::CrossSite(_) => "Request refused",
            WebError::NotFound(_) => "Page not found",
            WebError::MethodNotAllowed => "Method not allowed",
        }
    }

    /// What went wrong, in words (PODM text included: the page escapes it).
    pub fn detail(&self) -> String {
        match self {
            WebError::Api(err) => err.detail.clone(),
            WebError::BadRequest(detail) => detail.clone(),
            WebError::CrossSite(why) => format!(
                "this form was not submitted from a page of this console ({why}); \
                 reload the page and try again"
            ),
            WebError::NotFound(path) => format!("there is no page at {path}"),
            WebError::MethodNotAllowed => "this page does not accept that method".to_owned(),
        }
    }

    fn page(&self, request_id: Option<&str>) -> Response {
        let html = crate::layout::error_page(self, request_id);
        (self.status(), Html(html.into_string())).into_response()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut response = self.page(None);
        // Rendered again by `render_error_pages` with the request id.
        response.extensions_mut().insert(self);
        response
    }
}

/// Renders [`WebError`]s as full pages that name the request id, as the API's bodies do.
pub async fn render_error_pages(request: Request, next: Next) -> Response {
    let request_id = request.extensions().get::<RequestId>().cloned();
    let mut response = next.run(request).await;
    // An API error raised under a page (the token check, a service) is shown as a page too.
    let api_error = response
        .extensions_mut()
        .remove::<ApiError>()
        .map(WebError::Api);
    if let Some(error) = response.extensions_mut().remove::<WebError>().or(api_error) {
        if error.status().is_server_error() {
            tracing::warn!(error = %error, "console request failed");
        }
        let mut rendered = error.page(request_id.as_ref().map(|id| id.0.as_str()));
        for (name, value) in response.headers() {
            if name != axum::http::header::CONTENT_LENGTH
                && name != axum::http::header::CONTENT_TYPE
            {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = rendered;
    }
    response
}
