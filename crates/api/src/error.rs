//! The API's error policy and its one table of error codes.
//!
//! Policy: every failure a client can see is an [`ApiError`] rendered as upstream Valence's body
//! `{"request_id", "code", "status", "title", "detail"}` (plus optional extra members), with the
//! request id also in `X-Request-Id`. Lower layers' errors are mapped here and nowhere else.
//! Bad input is always a 4xx whose `detail` names the field or id at fault; a 5xx means a fault
//! of Valence or of a PODM, never of the request. Internal details (SQL, file paths) are logged,
//! not returned.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Machine-readable error codes: one row each of (code, HTTP status, title).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ErrorCode {
    BadRequest,
    InvalidField,
    MalformedJson,
    UnsupportedMediaType,
    InvalidQuery,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    NoValidPodm,
    PodmHasNodes,
    PayloadTooLarge,
    PodmRefused,
    Unsupported,
    PodmRejected,
    PodmBadResponse,
    PodmUnreachable,
    PodmTimeout,
    ServiceUnavailable,
    Internal,
}

impl ErrorCode {
    pub const fn status(self) -> StatusCode {
        match self {
            Self::BadRequest | Self::InvalidField | Self::MalformedJson | Self::InvalidQuery => {
                StatusCode::BAD_REQUEST
            }
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict | Self::NoValidPodm | Self::PodmHasNodes | Self::Unsupported => {
                StatusCode::CONFLICT
            }
            Self::PodmRefused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::PodmRejected | Self::PodmBadResponse | Self::PodmUnreachable => {
                StatusCode::BAD_GATEWAY
            }
            Self::PodmTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::InvalidField => "Invalid field",
            Self::MalformedJson => "Malformed JSON body",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::InvalidQuery => "Invalid query parameter",
            Self::Unauthorized => "Authentication required",
            Self::Forbidden => "Not allowed",
            Self::NotFound => "Resource not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "Conflict",
            Self::NoValidPodm => "No valid pod manager",
            Self::PodmHasNodes => "Pod manager still has nodes",
            Self::PayloadTooLarge => "Request body too large",
            Self::PodmRefused => "Pod manager refused the request",
            Self::Unsupported => "Not supported by the pod manager",
            Self::PodmRejected => "Pod manager failed the request",
            Self::PodmBadResponse => "Pod manager sent an unreadable answer",
            Self::PodmUnreachable => "Pod manager unreachable",
            Self::PodmTimeout => "Pod manager did not answer in time",
            Self::ServiceUnavailable => "Service unavailable",
            Self::Internal => "Internal error",
        }
    }
}

/// An error as the client sees it. Rendered by [`IntoResponse`]; the request-context middleware
/// fills in the request id.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    /// Extra members merged into the body (e.g. the scheduler's per-PODM explanation).
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The error body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub request_id: String,
    pub code: ErrorCode,
    pub status: u16,
    pub title: String,
    pub detail: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            extra: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, detail)
    }

    /// A field of the request is wrong: `field` is its dotted path.
    pub fn invalid_field(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidField, format!("{field}: {reason}"))
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} {id} not found"))
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, detail)
    }

    /// Adds a member to the error body.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The JSON body for request `request_id`.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        if let Some(extra) = &self.extra {
            body.extend(extra.clone());
        }
        body.insert("request_id".into(), request_id.into());
        body.insert("code".into(), serde_json::json!(self.code));
        body.insert("status".into(), self.status().as_u16().into());
        body.insert("title".into(), self.code.title().into());
        body.insert("detail".into(), self.detail.clone().into());
        serde_json::Value::Object(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::warn!(code = ?self.code, detail = %self.detail, "request failed");
        }
        let mut response = (self.status(), Json(self.body(""))).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_upstream_members_and_extras() {
        let err = ApiError::invalid_field("memory.capacity_mib", "must be a number")
            .with("field", "memory.capacity_mib".into());
        let body = err.body("req-1");
        assert_eq!(body["request_id"], "req-1");
        assert_eq!(body["code"], "InvalidField");
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Invalid field");
        assert_eq!(body["detail"], "memory.capacity_mib: must be a number");
        assert_eq!(body["field"], "memory.capacity_mib");
    }

    #[test]
    fn extras_cannot_override_the_contract_members() {
        let err = ApiError::not_found("node", "x").with("status", 200.into());
        assert_eq!(err.body("r")["status"], 404);
    }
}

/// Which request field a unique constraint protects, for a 409 that names it.
fn constraint_field(constraint: &str) -> Option<&'static str> {
    Some(match constraint {
        "pod_managers_name_key" | "flavors_name_key" => "name",
        "pod_managers_url_key" => "url",
        "nodes_idempotency_key_key" => "Idempotency-Key",
        "nodes_podm_uuid_resource_uri_key" => "node_index",
        "devices_podm_uuid_resource_uri_key" => "resource_uri",
        _ => return None,
    })
}

impl From<valence_db::DbError> for ApiError {
    fn from(err: valence_db::DbError) -> Self {
        use valence_db::{ConflictKind, DbError};
        match err {
            DbError::NotFound { entity, id } => ApiError::not_found(entity, &id),
            DbError::MarkerNotFound { entity, marker } => ApiError::new(
                ErrorCode::InvalidQuery,
                format!("query parameter marker: {marker} is not an existing {entity}"),
            ),
            DbError::Conflict {
                entity,
                kind: ConflictKind::Unique,
                constraint,
                ..
            } => match constraint.as_deref().and_then(constraint_field) {
                Some(field) => {
                    ApiError::conflict(format!("{field}: another {entity} already has this value"))
                        .with("field", field.into())
                }
                None => ApiError::conflict(format!("{entity} conflicts with an existing one")),
            },
            DbError::Conflict {
                entity,
                kind: ConflictKind::ForeignKey,
                ..
            } => ApiError::conflict(format!(
                "{entity} is still referenced (or refers to something gone)"
            )),
            DbError::PodmHasNodes { podm_uuid, count } => ApiError::new(
                ErrorCode::PodmHasNodes,
                format!(
                    "pod manager {podm_uuid} still has {count} node(s); release them first (release=true)"
                ),
            ),
            other => {
                tracing::error!(error = %other, "database failure");
                ApiError::internal("database failure; see the server log")
            }
        }
    }
}

impl From<valence_pod_manager_api::PodmError> for ApiError {
    fn from(err: valence_pod_manager_api::PodmError) -> Self {
        use valence_pod_manager_api::PodmError;
        let detail = err.to_string();
        let code = match &err {
            PodmError::Unreachable { .. } => ErrorCode::PodmUnreachable,
            PodmError::Conflict { .. } => ErrorCode::Conflict,
            PodmError::NotFound { .. } => ErrorCode::NotFound,
            PodmError::Rejected { status, .. } if err.is_auth_failure() || *status >= 500 => {
                ErrorCode::PodmRejected
            }
            // The PODM judged the request's own values (a reset type, a boot target): the
            // client can fix them.
            PodmError::Rejected { .. } => ErrorCode::PodmRefused,
            PodmError::BadResponse { .. } => ErrorCode::PodmBadResponse,
            PodmError::Unsupported { .. } => ErrorCode::Unsupported,
            PodmError::ComposeFailed { .. } | PodmError::Aborted { .. } => ErrorCode::PodmRejected,
        };
        ApiError::new(code, detail)
    }
}
