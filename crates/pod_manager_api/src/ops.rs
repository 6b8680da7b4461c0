//! Operations both drivers share: reset and boot override checked against what the resource
//! allows, racks, pooled devices, and deleting with retries when cleaning up after a failure.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::PodmError;
use crate::doc::{self, at, link, text};
use crate::model::{DeviceSummary, RackSummary};
use crate::parse;
use crate::reader::Reader;

/// `BootSourceOverrideEnabled` values of the Redfish schema, used when a resource lists none.
const BOOT_ENABLED_VALUES: [&str; 3] = ["Disabled", "Once", "Continuous"];

/// The allowable values of an action parameter: inline (`Param@Redfish.AllowableValues` or the
/// RSD 1.x `@DMTF` spelling), else from the action's `@Redfish.ActionInfo`. `None` when the
/// service says nothing (then the PODM decides).
pub(crate) async fn action_parameter_values(
    reader: &Reader,
    action: &Value,
    parameter: &str,
) -> Option<Vec<String>> {
    if let Some(values) = doc::allowable_values(action, parameter) {
        return Some(values);
    }
    let info_uri = link(action.get("@Redfish.ActionInfo"))?;
    let info = match reader.get(&info_uri).await {
        Ok(info) => info,
        Err(e) => {
            tracing::debug!(%info_uri, error = %e, "action info unreadable; not checking values");
            return None;
        }
    };
    info.get("Parameters")?
        .as_array()?
        .iter()
        .find(|p| text(p.get("Name")).as_deref() == Some(parameter))?
        .get("AllowableValues")?
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned).or_else(|| link(Some(v))))
                .collect()
        })
}

/// `value` in the spelling of `allowed` (case-insensitive), or an `Unsupported` naming them.
pub(crate) fn check_allowed(
    allowed: Option<&[String]>,
    value: &str,
    what: &str,
) -> Result<String, PodmError> {
    match allowed {
        None | Some([]) => Ok(value.to_owned()),
        Some(allowed) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(value.trim()))
            .cloned()
            .ok_or_else(|| {
                PodmError::unsupported(format!(
                    "{what} {value:?} (allowed: {})",
                    allowed.join(", ")
                ))
            }),
    }
}

/// POSTs the reset action `action_name` of the resource at `uri` after checking `reset_type`.
pub(crate) async fn reset(
    reader: &Reader,
    uri: &str,
    action_name: &str,
    reset_type: &str,
) -> Result<(), PodmError> {
    let resource = reader.get(uri).await?;
    let (target, action) = doc::action(&resource, action_name).ok_or_else(|| {
        PodmError::unsupported(format!(
            "resetting {uri}: it offers no {action_name} action"
        ))
    })?;
    let allowed = action_parameter_values(reader, action, "ResetType").await;
    let reset_type = check_allowed(
        allowed.as_deref(),
        reset_type,
        &format!("reset type for {uri}"),
    )?;
    reader
        .client
        .post_json(&target, &json!({ "ResetType": reset_type }))
        .await?;
    Ok(())
}

/// PATCHes `Boot.BootSourceOverrideEnabled/Target` of the resource at `uri`, both checked
/// against the values the resource lists.
pub(crate) async fn set_boot_source(
    reader: &Reader,
    uri: &str,
    enabled: &str,
    target: &str,
) -> Result<(), PodmError> {
    let resource = reader.get(uri).await?;
    let boot = resource
        .get("Boot")
        .filter(|b| b.is_object())
        .ok_or_else(|| PodmError::unsupported(format!("boot override of {uri}: it has no Boot")))?;
    let enabled_allowed =
        doc::allowable_values(boot, "BootSourceOverrideEnabled").unwrap_or_else(|| {
            BOOT_ENABLED_VALUES
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        });
    let enabled = check_allowed(
        Some(&enabled_allowed),
        enabled,
        &format!("boot override mode for {uri}"),
    )?;
    let target = check_allowed(
        doc::allowable_values(boot, "BootSourceOverrideTarget").as_deref(),
        target,
        &format!("boot source for {uri}"),
    )?;
    reader
        .client
        .patch_json(
            uri,
            &json!({ "Boot": {
                "BootSourceOverrideEnabled": enabled,
                "BootSourceOverrideTarget": target,
            }}),
        )
        .await?;
    Ok(())
}

/// Chassis of type `Rack` (every chassis is one request unless `$expand` is declared).
pub(crate) async fn list_racks(
    reader: &Reader,
    chassis: Option<&str>,
) -> Result<Vec<RackSummary>, PodmError> {
    let Some(chassis) = chassis else {
        return Ok(Vec::new());
    };
    let documents = reader.collection(chassis).await?;
    Ok(documents
        .iter()
        .filter_map(|(uri, v)| parse::rack(uri, v))
        .collect())
}

/// Target endpoints of every fabric.
pub(crate) async fn list_devices(
    reader: &Reader,
    fabrics: Option<&str>,
) -> Result<Vec<DeviceSummary>, PodmError> {
    let Some(fabrics) = fabrics else {
        return Ok(Vec::new());
    };
    let mut devices = Vec::new();
    for (fabric_uri, fabric) in reader.collection(fabrics).await? {
        let Some(endpoints) = link(fabric.get("Endpoints")) else {
            tracing::debug!(%fabric_uri, "fabric without Endpoints");
            continue;
        };
        let documents = match reader.collection(&endpoints).await {
            Err(PodmError::NotFound { .. }) => continue,
            other => other?,
        };
        devices.extend(
            documents
                .iter()
                .filter_map(|(uri, v)| parse::endpoint_device(uri, v)),
        );
    }
    Ok(devices)
}

/// DELETEs `uri`, retrying with growing pauses until `budget` is spent; gone already counts as
/// deleted. Used to release what a failed compose allocated: the PODM may be briefly down.
pub(crate) async fn delete_with_retries(
    reader: &Reader,
    uri: &str,
    budget: Duration,
) -> Result<(), PodmError> {
    let deadline = Instant::now() + budget;
    let mut pause = Duration::from_millis(250);
    loop {
        match reader.client.delete(uri).await {
            Ok(_)
            | Err(valence_http_client::Error::Status {
                status: 404 | 410, ..
            }) => {
                return Ok(());
            }
            Err(e) => {
                let error = PodmError::from(e);
                if Instant::now() + pause >= deadline {
                    return Err(error);
                }
                tracing::warn!(%uri, error = %error, ?pause, "deleting the node failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Attaches or detaches `device_uri` through the first of `actions` the node offers, checking
/// the device against the action's allowable `Resource` values when the PODM lists them.
pub(crate) async fn node_device_action(
    reader: &Reader,
    node_uri: &str,
    device_uri: &str,
    actions: &[&str],
    what: &str,
) -> Result<(), PodmError> {
    let node = reader.get(node_uri).await?;
    let (target, action) = actions
        .iter()
        .find_map(|name| doc::action(&node, name))
        .ok_or_else(|| {
            PodmError::unsupported(format!(
                "{what} on {node_uri}: it offers none of {}",
                actions.join(", ")
            ))
        })?;
    let device = doc::normalize_link(device_uri);
    // An empty list means nothing may be attached (or detached) now, not "no constraint".
    if let Some(allowed) = action_parameter_values(reader, action, "Resource").await
        && !allowed.iter().any(|a| doc::normalize_link(a) == device)
    {
        let listed = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        };
        return Err(PodmError::unsupported(format!(
            "{what} {device} on {node_uri} (allowed: {listed})"
        )));
    }
    reader
        .client
        .post_json(&target, &json!({ "Resource": { "@odata.id": device } }))
        .await?;
    Ok(())
}

/// The Redfish message of a resource's status, for error reports (`Status.Health` and the
/// conditions some services attach).
pub(crate) fn status_note(resource: &Value) -> String {
    let health = doc::health(resource);
    let conditions: Vec<String> = at(resource, &["Status", "Conditions"])
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|c| text(c.get("Message"))).collect())
        .unwrap_or_default();
    match (health, conditions.is_empty()) {
        (None, true) => String::new(),
        (Some(h), true) => format!(" (health {h})"),
        (None, false) => format!(" ({})", conditions.join("; ")),
        (Some(h), false) => format!(" (health {h}: {})", conditions.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_values_are_matched_case_insensitively_and_named_when_not() {
        let allowed = vec!["On".to_owned(), "ForceOff".to_owned()];
        assert_eq!(
            check_allowed(Some(&allowed), "forceoff", "reset type").unwrap(),
            "ForceOff"
        );
        let err = check_allowed(Some(&allowed), "Nmi", "reset type").unwrap_err();
        assert!(err.to_string().contains("On, ForceOff"), "{err}");
        assert_eq!(check_allowed(None, "Nmi", "reset type").unwrap(), "Nmi");
    }
}
