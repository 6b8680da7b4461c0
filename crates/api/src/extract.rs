//! Request extractors whose rejections are [`ApiError`]s naming the field at fault.
//!
//! Axum's own extractors answer plain text; these parse with `serde_path_to_error` so a client
//! reads `authentication[0].auth_items.password: missing field` instead of a generic 422.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// A JSON body of type `T`. Missing `Content-Type` is accepted (upstream clients omit it);
/// any other type than JSON is a 415.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(CONTENT_TYPE) {
            let is_json = content_type
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .is_some_and(|mime| {
                    let mime = mime.trim().to_ascii_lowercase();
                    mime == "application/json" || mime.ends_with("+json")
                });
            if !is_json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "the body must be JSON (Content-Type: application/json)",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ValidJson)
    }
}

/// Parses `bytes` as `T`, naming the path of the first bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the request body is empty; a JSON object is expected",
        ));
    }
    // Syntax first, then shape: read from the bytes directly, serde_json reports some shape
    // errors of valid JSON as syntax errors (`{}` for an enum: "expected value") and some syntax
    // errors as shape errors (`0x` for an object: "invalid type: integer").
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| ApiError::new(ErrorCode::MalformedJson, format!("malformed JSON: {err}")))?;
    // Every request body is an object; serde would also fill a struct from an array by position.
    let kind = match &value {
        serde_json::Value::Object(_) => None,
        serde_json::Value::Array(_) => Some("an array"),
        serde_json::Value::String(_) => Some("a string"),
        serde_json::Value::Number(_) => Some("a number"),
        serde_json::Value::Bool(_) => Some("a boolean"),
        serde_json::Value::Null => Some("null"),
    };
    if let Some(kind) = kind {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("body: expected a JSON object, got {kind}"),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // An empty path is a member named "" (its error says so: "unknown field ``").
        if path == "." || path.is_empty() {
            ApiError::new(ErrorCode::InvalidField, format!("body: {inner}"))
        } else {
            ApiError::invalid_field(&path, inner).with("field", path.into())
        }
    })
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body exceeds the size limit",
        )
    } else {
        ApiError::bad_request(format!("could not read the request body: {rejection}"))
    }
}

/// Query parameters of type `T` (declare it `deny_unknown_fields` so unknown filters are a 400).
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ValidQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(ValidQuery)
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let detail = if path == "." || path.is_empty() {
            format!("query: {inner}")
        } else {
            format!("query parameter {path}: {inner}")
        };
        ApiError::new(ErrorCode::InvalidQuery, detail)
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// A path segment that must be a UUID; anything else is a 404 naming it, as no such resource
/// can exist.
pub fn parse_uuid(what: &str, raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what, raw))
}

impl<S: Send + Sync> FromRequestParts<S> for crate::RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<crate::RequestId>()
            .cloned()
            .unwrap_or_else(crate::RequestId::generate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        auth: Vec<Auth>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Auth {
        user: String,
        port: u16,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Filters {
        podm_id: Option<String>,
        limit: Option<u32>,
        refresh: Option<bool>,
    }

    #[test]
    fn json_errors_name_the_field() {
        let err =
            parse_json::<Body>(br#"{"name":"a","auth":[{"user":"u","port":"x"}]}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidField);
        assert!(err.detail.starts_with("auth[0].port:"), "{}", err.detail);

        let err = parse_json::<Body>(br#"{"name":"a","auth":[],"colour":1}"#).unwrap_err();
        assert!(err.detail.contains("colour"), "{}", err.detail);

        let err = parse_json::<Body>(br#"{"name":"a","auth":["#).unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson);

        let err = parse_json::<Body>(b"  ").unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson);

        // Valid JSON of the wrong shape is not "malformed", and malformed JSON is never judged
        // by its shape.
        let err = parse_json::<Body>(br#"["a", []]"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidField);
        assert!(
            err.detail.starts_with("body: expected a JSON object"),
            "{}",
            err.detail
        );
        let err = parse_json::<Body>(b"0\x0e").unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson, "{}", err.detail);
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        enum Action {
            Reset(u8),
        }
        let err = parse_json::<Action>(b"{}").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidField, "{}", err.detail);

        let err = parse_json::<Body>(br#"{"auth":[]}"#).unwrap_err();
        assert!(err.detail.contains("name"), "{}", err.detail);
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let ok: Filters = parse_query("podm_id=abc&limit=5&refresh=true").unwrap();
        assert_eq!(ok.limit, Some(5));
        let err = parse_query::<Filters>("colour=red").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidQuery);
        assert!(err.detail.contains("colour"), "{}", err.detail);
        let err = parse_query::<Filters>("limit=many").unwrap_err();
        assert!(err.detail.contains("limit"), "{}", err.detail);
    }

    #[test]
    fn non_uuid_ids_are_not_found() {
        assert_eq!(
            parse_uuid("node", "../etc").unwrap_err().code,
            ErrorCode::NotFound
        );
        assert!(parse_uuid("node", "6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11").is_ok());
    }
}
