//! Redfish error bodies (`{"error": {"code", "message", "@Message.ExtendedInfo": [...]}}`), read leniently.

use serde_json::Value;

/// Longest excerpt of a non-Redfish error body kept in an error, in characters.
const EXCERPT_CHARS: usize = 200;

/// What a PODM said about a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedfishError {
    /// `error.code`, else the first `MessageId` of the extended info (e.g. `Base.1.0.InvalidPayload`).
    pub message_id: Option<String>,
    /// `error.message`.
    pub message: Option<String>,
    /// The extended info entries, in the order sent.
    pub extended_info: Vec<ExtendedInfo>,
}

/// One entry of `@Message.ExtendedInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedInfo {
    pub message_id: Option<String>,
    pub message: Option<String>,
    pub severity: Option<String>,
    pub resolution: Option<String>,
}

impl RedfishError {
    /// Reads a Redfish error from a response body; `None` when the body is not one (HTML from
    /// a proxy, plain text, an unrelated JSON document). Fields of the wrong type are skipped
    /// rather than failing, since an error report must survive a sloppy PODM.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let document: Value = serde_json::from_slice(body).ok()?;
        let error = document.get("error").filter(|e| e.is_object());
        // Some services put the extended info at the top level instead of inside `error`.
        let info_array = error
            .and_then(|e| e.get("@Message.ExtendedInfo"))
            .or_else(|| document.get("@Message.ExtendedInfo"))
            .and_then(Value::as_array);
        if error.is_none() && info_array.is_none() {
            return None;
        }
        let extended_info: Vec<ExtendedInfo> = info_array
            .into_iter()
            .flatten()
            .map(|entry| ExtendedInfo {
                message_id: string_field(entry, "MessageId"),
                message: string_field(entry, "Message"),
                severity: string_field(entry, "Severity")
                    .or_else(|| string_field(entry, "MessageSeverity")),
                resolution: string_field(entry, "Resolution"),
            })
            .collect();
        let message_id = error
            .and_then(|e| string_field(e, "code"))
            .or_else(|| extended_info.iter().find_map(|i| i.message_id.clone()));
        let message = error.and_then(|e| string_field(e, "message"));
        Some(Self {
            message_id,
            message,
            extended_info,
        })
    }

    /// The extended info messages, in order (the human-readable reasons).
    pub fn messages(&self) -> Vec<String> {
        self.extended_info
            .iter()
            .filter_map(|i| i.message.clone())
            .collect()
    }
}

impl std::fmt::Display for RedfishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(message) = &self.message {
            parts.push(message);
        }
        parts.extend(
            self.extended_info
                .iter()
                .filter_map(|i| i.message.as_deref()),
        );
        match &self.message_id {
            Some(id) if parts.is_empty() => write!(f, "{id}"),
            Some(id) => write!(f, "{id}: {}", parts.join("; ")),
            None => write!(f, "{}", parts.join("; ")),
        }
    }
}

fn string_field(object: &Value, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The start of a body as text, on one line, for error messages about bodies we cannot read.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_falls_back_to_extended_info() {
        let body = br#"{"error":{"message":"x","@Message.ExtendedInfo":[{"MessageId":"Base.1.8.PropertyMissing","Message":"m"}]}}"#;
        let e = RedfishError::from_body(body).unwrap();
        assert_eq!(e.message_id.as_deref(), Some("Base.1.8.PropertyMissing"));
        assert_eq!(e.messages(), vec!["m".to_owned()]);
    }

    #[test]
    fn wrong_types_are_skipped_not_fatal() {
        let body = br#"{"error":{"code":7,"message":"boom","@Message.ExtendedInfo":[3,{"Message":"ok"}]}}"#;
        let e = RedfishError::from_body(body).unwrap();
        assert_eq!(e.message_id, None);
        assert_eq!(e.message.as_deref(), Some("boom"));
        assert_eq!(e.messages(), vec!["ok".to_owned()]);
    }

    #[test]
    fn non_redfish_bodies_are_none() {
        assert_eq!(RedfishError::from_body(b"<html>Bad gateway</html>"), None);
        assert_eq!(RedfishError::from_body(br#"{"Id":"1"}"#), None);
        assert_eq!(RedfishError::from_body(b""), None);
    }

    #[test]
    fn excerpt_is_short_single_line_and_utf8_safe() {
        let long = "é\n".repeat(500);
        let e = excerpt(long.as_bytes());
        assert!(!e.contains('\n'));
        assert!(e.ends_with('…'));
        assert!(e.chars().count() <= EXCERPT_CHARS + 1);
    }
}
