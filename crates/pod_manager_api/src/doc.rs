//! Tolerant reading of Redfish JSON documents: links, optional text and numbers in whatever form
//! real services send them (strings for numbers, nulls, RSD 1.x spellings).
//!
//! Optional data that is absent, null or of the wrong type reads as `None`; required data is
//! asked for through functions returning [`PodmError::BadResponse`] naming the URL and field.

use serde_json::Value;

use crate::PodmError;

/// Decodes a response body; an error names the URL and where the JSON broke.
pub(crate) fn decode(url: &str, body: &[u8]) -> Result<Value, PodmError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| PodmError::bad_response(url, format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(PodmError::bad_response(
            url,
            format!("expected a JSON object, got {}", kind_of(&value)),
        ));
    }
    Ok(value)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value at a path of object keys.
pub(crate) fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// A non-empty string (trimmed).
pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A non-negative number given as a number or as a numeric string (`8`, `8.0`, `"8"`).
pub(crate) fn number(value: Option<&Value>) -> Option<f64> {
    let n = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// A whole count; fractions are cut (a PODM reporting `2.0` cores means 2).
pub(crate) fn count(value: Option<&Value>) -> Option<u64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    number(value).map(|n| n.min(u64::MAX as f64) as u64)
}

/// The target of a link `{"@odata.id": "..."}` (a bare string is accepted too), normalised
/// with [`normalize_link`].
pub(crate) fn link(value: Option<&Value>) -> Option<String> {
    let value = value?;
    let raw = match value {
        Value::String(s) => s.as_str(),
        Value::Object(_) => value.get("@odata.id").and_then(Value::as_str)?,
        _ => return None,
    };
    let normalized = normalize_link(raw);
    (!normalized.is_empty()).then_some(normalized)
}

/// Every link of an array of links, skipping entries that are not links.
pub(crate) fn links(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| link(Some(v))).collect())
        .unwrap_or_default()
}

/// Links name the same resource whatever their form: an absolute URL is cut to its path, a
/// trailing slash and a fragment are dropped (`/redfish/v1/` and `/redfish/v1` are one).
pub(crate) fn normalize_link(raw: &str) -> String {
    let raw = raw.trim();
    let path = match raw.find("://") {
        Some(scheme_end) => {
            let rest = &raw[scheme_end + 3..];
            rest.find('/').map_or("/", |slash| &rest[slash..])
        }
        None => raw,
    };
    let path = path.split('#').next().unwrap_or(path);
    if path.len() > 1 {
        path.trim_end_matches('/').to_owned()
    } else {
        path.to_owned()
    }
}

/// The last segment of a resource path: its `Id` when the document has none.
pub(crate) fn last_segment(uri: &str) -> String {
    uri.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(uri)
        .to_owned()
}

/// `Oem.Intel_RackScale`, or its RSD 1.x spelling `Oem."Intel:RackScale"`.
pub(crate) fn rackscale_oem(value: &Value) -> Option<&Value> {
    let oem = value.get("Oem")?;
    oem.get("Intel_RackScale")
        .or_else(|| oem.get("Intel:RackScale"))
        .filter(|v| v.is_object())
}

/// The allowable values of `property` within `object`: `@Redfish.AllowableValues`, or RSD 1.x's
/// `@DMTF.AllowableValues`. `None` when the service does not say.
pub(crate) fn allowable_values(object: &Value, property: &str) -> Option<Vec<String>> {
    ["Redfish", "DMTF"].iter().find_map(|ns| {
        object
            .get(format!("{property}@{ns}.AllowableValues"))
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned).or_else(|| link(Some(v))))
                    .collect()
            })
    })
}

/// The `target` of action `name` (`#ComposedNode.Reset`) of a resource, and the action object.
pub(crate) fn action<'v>(resource: &'v Value, name: &str) -> Option<(String, &'v Value)> {
    let action = at(resource, &["Actions", name])?;
    let target = text(action.get("target"))?;
    Some((normalize_link(&target), action))
}

/// `Status.Health` (or `HealthRollup` when `Health` is absent).
pub(crate) fn health(resource: &Value) -> Option<String> {
    text(at(resource, &["Status", "Health"]))
        .or_else(|| text(at(resource, &["Status", "HealthRollup"])))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_come_as_numbers_or_strings() {
        assert_eq!(number(Some(&json!(8))), Some(8.0));
        assert_eq!(number(Some(&json!("8"))), Some(8.0));
        assert_eq!(number(Some(&json!(" 16.0 "))), Some(16.0));
        assert_eq!(number(Some(&json!(null))), None);
        assert_eq!(number(Some(&json!("lots"))), None);
        assert_eq!(number(Some(&json!(-1))), None);
        assert_eq!(count(Some(&json!(2.9))), Some(2));
    }

    #[test]
    fn links_normalise() {
        assert_eq!(
            link(Some(&json!({"@odata.id": "/redfish/v1/Systems/1/"}))),
            Some("/redfish/v1/Systems/1".into())
        );
        assert_eq!(
            link(Some(&json!("https://podm:8443/redfish/v1/Nodes/2"))),
            Some("/redfish/v1/Nodes/2".into())
        );
        assert_eq!(normalize_link("/redfish/v1/"), "/redfish/v1");
        assert_eq!(
            normalize_link("/redfish/v1/Systems/1/Storage/SATA#/StorageControllers/0"),
            "/redfish/v1/Systems/1/Storage/SATA"
        );
        assert_eq!(link(Some(&json!({}))), None);
        assert_eq!(
            links(Some(&json!([{"@odata.id": "/a"}, 3, {}]))),
            vec!["/a"]
        );
    }

    #[test]
    fn allowable_values_in_both_spellings() {
        let v = json!({"ResetType@DMTF.AllowableValues": ["On", "ForceOff"]});
        assert_eq!(
            allowable_values(&v, "ResetType"),
            Some(vec!["On".into(), "ForceOff".into()])
        );
        let v = json!({"ResetType@Redfish.AllowableValues": ["On"]});
        assert_eq!(allowable_values(&v, "ResetType"), Some(vec!["On".into()]));
        assert_eq!(allowable_values(&json!({}), "ResetType"), None);
    }

    #[test]
    fn decode_names_the_url_and_position() {
        let err = decode("/redfish/v1/x", b"{\"a\": 1,,}").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/redfish/v1/x") && text.contains("line 1"),
            "{text}"
        );
        let err = decode("/redfish/v1/x", b"[1]").unwrap_err();
        assert!(err.to_string().contains("an array"), "{err}");
    }
}
