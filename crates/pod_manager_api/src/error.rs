//! Errors of talking to one PODM, classified by what the layers above do about them.

/// The upper layers act on the kind: `Unreachable` marks a PODM offline, `Conflict` sends the
/// scheduler to the next candidate, `Rejected` and `BadResponse` are shown to the operator.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PodmError {
    /// Connection refused or reset, TLS failure, or no answer within the deadline.
    #[error("PODM unreachable: {detail}")]
    Unreachable { detail: String },
    /// The PODM refused an allocation because the resources are taken (HTTP 409).
    #[error("PODM conflict: {}", messages.join("; "))]
    Conflict { messages: Vec<String> },
    #[error("not found on the PODM: {uri}")]
    NotFound { uri: String },
    /// The PODM answered with an error status; Redfish `MessageId` and messages when sent.
    #[error("PODM answered {status} for {url}: {}{}", message_id.as_deref().map(|m| format!("{m}: ")).unwrap_or_default(), messages.join("; "))]
    Rejected {
        url: String,
        status: u16,
        message_id: Option<String>,
        messages: Vec<String>,
    },
    /// The PODM's answer could not be understood; `detail` names the field when one is at fault.
    #[error("bad response from {url}: {detail}")]
    BadResponse { url: String, detail: String },
    /// The PODM does not offer this operation.
    #[error("the PODM does not support {operation}")]
    Unsupported { operation: String },
    /// Assembly ended in `Failed` or did not finish in time; the node was released.
    #[error("compose failed: {detail}")]
    ComposeFailed { detail: String },
    /// A step observer (the caller's bookkeeping) failed; the node was released.
    #[error("compose aborted: {detail}")]
    Aborted { detail: String },
}
