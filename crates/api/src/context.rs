//! Per-request context: the request id (`X-Request-Id`), the tracing span, and the final
//! rendering of errors with that id.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of one API request, as sent to the client and written in every log line of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn generate() -> Self {
        Self(format!("req-{}", uuid::Uuid::new_v4()))
    }

    /// A caller's id is kept (so a load balancer's id follows the request) when it is short
    /// and plain; anything else is replaced.
    fn from_incoming(value: &HeaderValue) -> Option<Self> {
        let text = value.to_str().ok()?;
        let plain = !text.is_empty()
            && text.len() <= 128
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        plain.then(|| Self(text.to_owned()))
    }
}

/// Gives each request its id and span, and renders any [`ApiError`] with that id.
pub async fn request_context(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(RequestId::from_incoming)
        .unwrap_or_else(RequestId::generate);
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id.0,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let mut rendered = (error.status(), axum::Json(error.body(&id.0))).into_response();
        for (name, value) in response.headers() {
            if name != axum::http::header::CONTENT_LENGTH
                && name != axum::http::header::CONTENT_TYPE
            {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = rendered;
    }
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Answers 503 (with `Retry-After`) instead of queueing when too many requests are in flight, so
/// an overload is visible to clients and load balancers rather than a growing backlog.
pub async fn limit_concurrency(
    axum::extract::State(slots): axum::extract::State<std::sync::Arc<tokio::sync::Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = slots.try_acquire() else {
        let mut response = ApiError::new(
            crate::ErrorCode::ServiceUnavailable,
            "too many requests in flight; retry shortly",
        )
        .into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from_static("1"),
        );
        return response;
    };
    next.run(request).await
}
