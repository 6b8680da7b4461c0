//! Errors of talking to one PODM, classified by what the layers above do about them.
//!
//! Policy: every failure of the HTTP layer becomes one of these kinds, decided once here
//! ([`From<valence_http_client::Error>`]); each names the URL (and field, when one is at fault).
//! An authentication failure is a `Rejected` with status 401 or 403 whose message starts with
//! "authentication failed" ([`PodmError::is_auth_failure`]), so the operator sees it as such.
//! A configuration that cannot work (bad URL, unreadable CA certificate) is reported when the
//! connection is first used, as `Unreachable` naming the setting: the PODM cannot be reached with
//! it, which is what the health check should show.

use valence_http_client::Error as HttpError;

/// The upper layers act on the kind: `Unreachable` marks a PODM offline, `Conflict` sends the
/// scheduler to the next candidate, `Rejected` and `BadResponse` are shown to the operator.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PodmError {
    /// Connection refused or reset, TLS failure, or no answer within the deadline.
    #[error("PODM unreachable: {detail}")]
    Unreachable { detail: String },
    /// The PODM refused an allocation because the resources are taken (HTTP 409).
    #[error("PODM conflict: {}", join_or(messages, "no reason given"))]
    Conflict { messages: Vec<String> },
    #[error("not found on the PODM: {uri}")]
    NotFound { uri: String },
    /// The PODM answered with an error status; Redfish `MessageId` and messages when sent.
    #[error("PODM answered {status} for {url}{}", describe_rejection(message_id.as_deref(), messages))]
    Rejected {
        url: String,
        status: u16,
        message_id: Option<String>,
        messages: Vec<String>,
    },
    /// The PODM's answer could not be understood; `detail` names the field when one is at fault.
    #[error("bad response from {url}: {detail}")]
    BadResponse { url: String, detail: String },
    /// The PODM does not offer this operation (or this value of it).
    #[error("the PODM does not support {operation}")]
    Unsupported { operation: String },
    /// Assembly ended in `Failed`, did not finish in time, or a step failed after allocation.
    /// The node was deleted again unless `leaked_node` names it: then deleting it failed too.
    #[error("compose failed: {detail}{}", describe_leak(leaked_node.as_deref()))]
    ComposeFailed {
        detail: String,
        leaked_node: Option<String>,
    },
    /// A step observer (the caller's bookkeeping) failed; the node was deleted again unless
    /// `leaked_node` names it.
    #[error("compose aborted: {detail}{}", describe_leak(leaked_node.as_deref()))]
    Aborted {
        detail: String,
        leaked_node: Option<String>,
    },
}

fn join_or(messages: &[String], empty: &str) -> String {
    if messages.is_empty() {
        empty.to_owned()
    } else {
        messages.join("; ")
    }
}

fn describe_rejection(message_id: Option<&str>, messages: &[String]) -> String {
    match (message_id, messages.is_empty()) {
        (None, true) => String::new(),
        (Some(id), true) => format!(": {id}"),
        (None, false) => format!(": {}", messages.join("; ")),
        (Some(id), false) => format!(": {id}: {}", messages.join("; ")),
    }
}

fn describe_leak(leaked_node: Option<&str>) -> String {
    leaked_node
        .map(|uri| format!("; the node {uri} could not be deleted and may have leaked on the PODM"))
        .unwrap_or_default()
}

impl PodmError {
    /// Whether the PODM refused our credentials (wrong password, expired account).
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            PodmError::Rejected {
                status: 401 | 403,
                ..
            }
        )
    }

    /// The node left on the PODM by a failed compose, if any.
    pub fn leaked_node(&self) -> Option<&str> {
        match self {
            PodmError::ComposeFailed { leaked_node, .. }
            | PodmError::Aborted { leaked_node, .. } => leaked_node.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn bad_response(url: &str, detail: impl Into<String>) -> Self {
        PodmError::BadResponse {
            url: url.to_owned(),
            detail: detail.into(),
        }
    }

    /// A required field is absent (or null, or of the wrong type).
    pub(crate) fn missing(url: &str, field: &str) -> Self {
        Self::bad_response(
            url,
            format!("required field {field} is missing or not usable"),
        )
    }

    pub fn unsupported(operation: impl Into<String>) -> Self {
        PodmError::Unsupported {
            operation: operation.into(),
        }
    }
}

impl From<HttpError> for PodmError {
    fn from(error: HttpError) -> Self {
        if error.is_unreachable() {
            return PodmError::Unreachable {
                detail: error.to_string(),
            };
        }
        match error {
            HttpError::Status {
                url,
                status,
                redfish,
                excerpt,
            } => {
                let (message_id, mut messages) = match redfish.as_deref() {
                    Some(r) => {
                        let mut messages: Vec<String> = r.message.iter().cloned().collect();
                        messages.extend(r.messages());
                        (r.message_id.clone(), messages)
                    }
                    None => (None, Vec::new()),
                };
                if messages.is_empty() && !excerpt.is_empty() {
                    messages.push(excerpt);
                }
                match status {
                    409 => PodmError::Conflict { messages },
                    404 | 410 => PodmError::NotFound { uri: url },
                    _ => PodmError::Rejected {
                        url,
                        status,
                        message_id,
                        messages,
                    },
                }
            }
            HttpError::Auth { url, detail } => PodmError::Rejected {
                url,
                status: 401,
                message_id: None,
                messages: vec![format!("authentication failed: {detail}")],
            },
            HttpError::InvalidConfig { field, detail } => PodmError::Unreachable {
                detail: format!("the PODM's configuration cannot work: {field} {detail}"),
            },
            HttpError::Decode { url, path, detail } => PodmError::BadResponse {
                url,
                detail: format!("{path}: {detail}"),
            },
            other @ (HttpError::InvalidUrl { .. }
            | HttpError::TooLarge { .. }
            | HttpError::TooManyPages { .. }
            | HttpError::PageLoop { .. }) => PodmError::BadResponse {
                url: other.url().to_owned(),
                detail: other.to_string(),
            },
            // `is_unreachable` took these above; kept explicit so a new kind is a compile error.
            other @ (HttpError::Connect { .. }
            | HttpError::Tls { .. }
            | HttpError::Transport { .. }
            | HttpError::Timeout { .. }) => PodmError::Unreachable {
                detail: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well_with_and_without_details() {
        let e = PodmError::Rejected {
            url: "https://podm/redfish/v1/Nodes".into(),
            status: 500,
            message_id: None,
            messages: vec![],
        };
        assert_eq!(
            e.to_string(),
            "PODM answered 500 for https://podm/redfish/v1/Nodes"
        );
        let e = PodmError::ComposeFailed {
            detail: "assembly failed".into(),
            leaked_node: Some("/redfish/v1/Nodes/7".into()),
        };
        assert!(e.to_string().contains("/redfish/v1/Nodes/7"));
        assert!(e.to_string().contains("leaked"));
        assert_eq!(e.leaked_node(), Some("/redfish/v1/Nodes/7"));
    }

    #[test]
    fn auth_failures_are_named() {
        let e = PodmError::from(HttpError::Auth {
            url: "https://podm/redfish/v1/Systems".into(),
            detail: "credentials of admin refused (401)".into(),
        });
        assert!(e.is_auth_failure());
        assert!(e.to_string().contains("authentication failed"), "{e}");
    }
}
