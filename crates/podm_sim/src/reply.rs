//! Answers of the simulated PODM before they go on the wire, and the Redfish error bodies
//! (`error.code`, `error.message`, `@Message.ExtendedInfo`) a real PODM sends.

use http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::schema::Violation;

/// An answer: status, extra headers and an optional JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Option<Value>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub(crate) fn ok(body: Value) -> Self {
        Self::json(StatusCode::OK, body)
    }

    pub(crate) fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header; values that are not valid header text are dropped (all values set here
    /// are built from URLs and numbers of this crate).
    pub(crate) fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

/// One entry of `@Message.ExtendedInfo`.
pub(crate) fn message(id: &str, text: String, args: &[String], related: &[String]) -> Value {
    json!({
        "@odata.type": "#Message.v1_0_0.Message",
        "MessageId": id,
        "Message": text,
        "MessageArgs": args,
        "RelatedProperties": related,
        "Severity": "Warning",
        "Resolution": "Correct the request and resubmit it.",
    })
}

pub(crate) fn redfish_error(
    status: StatusCode,
    code: &str,
    text: &str,
    extended: Vec<Value>,
) -> Reply {
    Reply::json(
        status,
        json!({
            "error": {
                "code": code,
                "message": text,
                "@Message.ExtendedInfo": extended,
            }
        }),
    )
}

pub(crate) fn not_found(path: &str) -> Reply {
    redfish_error(
        StatusCode::NOT_FOUND,
        "Base.1.0.ResourceMissingAtURI",
        "The resource at the URI was not found.",
        vec![message(
            "Base.1.0.ResourceMissingAtURI",
            format!("The resource at the URI {path} was not found."),
            &[path.to_owned()],
            &[],
        )],
    )
}

pub(crate) fn method_not_allowed(path: &str, allow: &str) -> Reply {
    redfish_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Base.1.0.OperationNotAllowed",
        "The HTTP method is not allowed for this resource.",
        vec![message(
            "Base.1.0.OperationNotAllowed",
            format!("{path} supports only {allow}."),
            &[path.to_owned()],
            &[],
        )],
    )
    .with_header(header::ALLOW, allow)
}

pub(crate) fn malformed_json(detail: &str) -> Reply {
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
        vec![message(
            "Base.1.0.MalformedJSON",
            format!("The request body submitted was malformed JSON: {detail}"),
            &[],
            &[],
        )],
    )
}

/// `400` listing every schema violation of a request body.
pub(crate) fn invalid_payload(violations: &[Violation]) -> Reply {
    let infos = violations
        .iter()
        .map(|v| {
            let path = v.path();
            let related = [path.pointer()];
            match v {
                Violation::WrongType {
                    value, expected, ..
                } => message(
                    "Base.1.0.PropertyValueTypeError",
                    format!(
                        "The value {value} for the property {path} is of a different type than the property can accept ({expected})."
                    ),
                    &[value.to_string(), path.to_string()],
                    &related,
                ),
                Violation::NotInList { value, .. } => message(
                    "Base.1.0.PropertyValueNotInList",
                    format!(
                        "The value {value} for the property {path} is not in the list of acceptable values."
                    ),
                    &[value.to_string(), path.to_string()],
                    &related,
                ),
                Violation::UnknownProperty { .. } => message(
                    "Base.1.0.PropertyUnknown",
                    format!(
                        "The property {path} is not in the list of valid properties for the resource."
                    ),
                    &[path.to_string()],
                    &related,
                ),
            }
        })
        .collect();
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.InvalidPayload",
        "Request payload is invalid or missing",
        infos,
    )
}

/// `400` for a required property that is absent.
pub(crate) fn property_missing(property: &str) -> Reply {
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.InvalidPayload",
        "Request payload is invalid or missing",
        vec![message(
            "Base.1.0.PropertyMissing",
            format!(
                "The property {property} is a required property and must be included in the request."
            ),
            &[property.to_owned()],
            &[format!("#/{}", property.replace('.', "/"))],
        )],
    )
}

/// `400` for a value outside the property's `@Redfish.AllowableValues`.
pub(crate) fn value_not_allowed(property: &str, value: &Value, allowed: &[&str]) -> Reply {
    let allowed = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    };
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.InvalidPayload",
        "Request payload is invalid or missing",
        vec![message(
            "Base.1.0.PropertyValueNotInList",
            format!(
                "The value {value} for the property {property} is not in the list of acceptable values ({allowed})."
            ),
            &[value.to_string(), property.to_owned()],
            &[format!("#/{}", property.replace('.', "/"))],
        )],
    )
}

/// `400` for a value of the wrong JSON type.
pub(crate) fn wrong_type(property: &str, value: &Value, expected: &str) -> Reply {
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.InvalidPayload",
        "Request payload is invalid or missing",
        vec![message(
            "Base.1.0.PropertyValueTypeError",
            format!(
                "The value {value} for the property {property} is of a different type than the property can accept ({expected})."
            ),
            &[value.to_string(), property.to_owned()],
            &[format!("#/{}", property.replace('.', "/"))],
        )],
    )
}

/// `400` for a property that exists but cannot be written with PATCH.
pub(crate) fn not_writable(property: &str) -> Reply {
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.InvalidPayload",
        "Request payload is invalid or missing",
        vec![message(
            "Base.1.0.PropertyNotWritable",
            format!(
                "The property {property} is a read only property and cannot be assigned a value."
            ),
            &[property.to_owned()],
            &[format!("#/{}", property.replace('.', "/"))],
        )],
    )
}

/// `400` for a property this resource does not have.
pub(crate) fn unknown_property(property: &str) -> Reply {
    redfish_error(
        StatusCode::BAD_REQUEST,
        "Base.1.0.InvalidPayload",
        "Request payload is invalid or missing",
        vec![message(
            "Base.1.0.PropertyUnknown",
            format!(
                "The property {property} is not in the list of valid properties for the resource."
            ),
            &[property.to_owned()],
            &[format!("#/{}", property.replace('.', "/"))],
        )],
    )
}

/// `401`: no credentials, an unknown or expired session.
pub(crate) fn no_valid_session() -> Reply {
    redfish_error(
        StatusCode::UNAUTHORIZED,
        "Base.1.0.NoValidSession",
        "There is no valid session established with the implementation.",
        vec![message(
            "Base.1.0.NoValidSession",
            "There is no valid session established with the implementation.".to_owned(),
            &[],
            &[],
        )],
    )
    .with_header(header::WWW_AUTHENTICATE, "Basic realm=\"RSD PODM\"")
}

/// `401`: credentials were given and are wrong.
pub(crate) fn bad_credentials(path: &str) -> Reply {
    redfish_error(
        StatusCode::UNAUTHORIZED,
        "Base.1.0.ResourceAtUriUnauthorized",
        "While accessing the resource, the service received an authorization error.",
        vec![message(
            "Base.1.0.ResourceAtUriUnauthorized",
            format!("While accessing the resource at {path}, the service received an authorization error: invalid user name or password."),
            &[path.to_owned()],
            &[],
        )],
    )
    .with_header(header::WWW_AUTHENTICATE, "Basic realm=\"RSD PODM\"")
}

pub(crate) fn internal(detail: &str) -> Reply {
    redfish_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Base.1.0.InternalError",
        "The request failed due to an internal service error.",
        vec![message(
            "Base.1.0.InternalError",
            format!("The request failed due to an internal service error: {detail}"),
            &[],
            &[],
        )],
    )
}

pub(crate) fn unavailable(retry_after_secs: u64) -> Reply {
    redfish_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Base.1.0.ServiceTemporarilyUnavailable",
        "The service is temporarily unavailable.",
        vec![message(
            "Base.1.0.ServiceTemporarilyUnavailable",
            format!("The service is temporarily unavailable. Retry in {retry_after_secs} seconds."),
            &[retry_after_secs.to_string()],
            &[],
        )],
    )
    .with_header(header::RETRY_AFTER, &retry_after_secs.to_string())
}
