//! Pooled devices: Valence's record of each PODM's fabric endpoints, refreshed by a sync, and
//! attached to or detached from composed nodes.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;
use valence_client::types;
use valence_pod_manager_api::{DeviceSummary, PodmError};

use crate::AppState;
use crate::error::ApiError;
use crate::service::podms;

fn properties(d: &DeviceSummary) -> serde_json::Value {
    serde_json::json!({
        "device_id": d.device_id,
        "name": d.name,
        "endpoint_uri": d.endpoint_uri,
        "protocol": d.protocol,
        "health": d.health,
    })
}

/// Brings one PODM's device records in line with what it reports now.
async fn sync_podm(state: &AppState, row: &valence_db::PodManager) -> types::DeviceSyncReport {
    let mut report = types::DeviceSyncReport {
        podm_id: row.uuid.to_string(),
        added: 0,
        updated: 0,
        removed: 0,
        error: None,
    };
    let read = async {
        let conn = podms::connection(state, row)
            .await
            .map_err(|err| err.detail)?;
        let devices = match conn.list_devices().await {
            Ok(devices) => devices,
            Err(PodmError::Unsupported { .. }) => return Ok((Vec::new(), HashMap::new())),
            Err(err) => return Err(err.to_string()),
        };
        // Which node each device is attached to, as the PODM sees it now.
        let mut attached_to = HashMap::new();
        if !devices.is_empty() {
            for node in conn.list_nodes().await.map_err(|err| err.to_string())? {
                for resource in &node.attached {
                    attached_to.insert(resource.clone(), node.resource_uri.clone());
                }
            }
        }
        Ok((devices, attached_to))
    };
    let (devices, attached_to) =
        match tokio::time::timeout(state.settings.aggregator.call_timeout, read).await {
            Ok(Ok(found)) => found,
            Ok(Err(detail)) => {
                report.error = Some(detail);
                return report;
            }
            Err(_) => {
                report.error = Some("the pod manager did not answer in time".into());
                return report;
            }
        };
    let podm = row.uuid;
    let outcome = state
        .db
        .transaction(move |conn| {
            let mut counts = (0u32, 0u32, 0u32);
            let mut seen = HashSet::new();
            for d in &devices {
                seen.insert(d.resource_uri.clone());
                let node_uuid = match attached_to.get(&d.resource_uri) {
                    Some(node_uri) => {
                        valence_db::nodes::find_by_resource_uri(conn, podm, node_uri)?
                            .map(|n| n.uuid)
                    }
                    None => None,
                };
                let device_type = d.device_type.clone().unwrap_or_else(|| "Unknown".into());
                let device_state = d.state.clone().unwrap_or_else(|| "Unknown".into());
                match valence_db::devices::find_by_resource_uri(conn, podm, &d.resource_uri)? {
                    Some(existing) => {
                        let unchanged = existing.device_type == device_type
                            && existing.state == device_state
                            && existing.properties == properties(d)
                            && existing.node_uuid == node_uuid;
                        if !unchanged {
                            let changes = valence_db::DeviceUpdate {
                                node_uuid: Some(node_uuid),
                                device_type: Some(device_type),
                                state: Some(device_state),
                                properties: Some(properties(d)),
                                ..Default::default()
                            };
                            valence_db::devices::update(conn, existing.uuid, &changes)?;
                            counts.1 += 1;
                        }
                    }
                    None => {
                        let new = valence_db::NewDevice {
                            podm_uuid: podm,
                            node_uuid,
                            device_type,
                            state: device_state,
                            resource_uri: d.resource_uri.clone(),
                            properties: properties(d),
                        };
                        valence_db::devices::create(conn, &new)?;
                        counts.0 += 1;
                    }
                }
            }
            for old in valence_db::devices::list_by_podm(conn, podm, valence_db::Page::default())? {
                if !seen.contains(&old.resource_uri) {
                    valence_db::devices::delete(conn, old.uuid)?;
                    counts.2 += 1;
                }
            }
            Ok(counts)
        })
        .await;
    match outcome {
        Ok((added, updated, removed)) => {
            report.added = added;
            report.updated = updated;
            report.removed = removed;
        }
        Err(err) => report.error = Some(ApiError::from(err).detail),
    }
    report
}

/// `POST /v1/devices/sync`: every PODM (or one), concurrently; a PODM that fails is reported,
/// the others are synced.
pub async fn sync(
    state: &AppState,
    podm: Option<Uuid>,
) -> Result<Vec<types::DeviceSyncReport>, ApiError> {
    let rows = match podm {
        Some(uuid) => vec![podms::get_row(state, uuid).await?],
        None => podms::all_rows(state).await?,
    };
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| r.state != valence_db::PodmState::Deleting)
        .collect();
    let mut reports = futures::future::join_all(rows.iter().map(|row| sync_podm(state, row))).await;
    reports.sort_by(|a, b| a.podm_id.cmp(&b.podm_id));
    Ok(reports)
}

/// Attaches (or detaches) a recorded device to a ready node on the same PODM.
pub async fn attach(
    state: &AppState,
    node: &valence_db::Node,
    device_id: &str,
    attach: bool,
) -> Result<(), ApiError> {
    let field = if attach {
        "Attach.device_id"
    } else {
        "Detach.device_id"
    };
    let device_uuid = Uuid::parse_str(device_id.trim())
        .map_err(|_| ApiError::invalid_field(field, format!("{device_id:?} is not a device id")))?;
    let device = state
        .db
        .run(move |conn| valence_db::devices::find(conn, device_uuid))
        .await?
        .ok_or_else(|| ApiError::invalid_field(field, format!("no device {device_uuid}")))?;
    if device.podm_uuid != node.podm_uuid {
        return Err(ApiError::invalid_field(
            field,
            "the device belongs to another pod manager than the node",
        ));
    }
    match (attach, device.node_uuid) {
        (true, Some(other)) if other != node.uuid => {
            return Err(ApiError::conflict(format!(
                "device {device_uuid} is attached to node {other}"
            )));
        }
        (false, owner) if owner != Some(node.uuid) => {
            return Err(ApiError::conflict(format!(
                "device {device_uuid} is not attached to node {}",
                node.uuid
            )));
        }
        // Attached to this node already: nothing to do (a retried request).
        (true, Some(owner)) if owner == node.uuid => return Ok(()),
        _ => {}
    }
    let node_uri = node
        .resource_uri
        .clone()
        .ok_or_else(|| ApiError::conflict(format!("node {} is not composed yet", node.uuid)))?;
    let row = podms::get_row(state, node.podm_uuid).await?;
    let conn = podms::connection(state, &row).await?;
    let done = if attach {
        conn.attach_device(&node_uri, &device.resource_uri).await
    } else {
        conn.detach_device(&node_uri, &device.resource_uri).await
    };
    match done {
        // The node does not allow this device (the PODM's allowable values): the client's to fix.
        Err(PodmError::Unsupported { operation }) => {
            return Err(ApiError::invalid_field(
                field,
                format!("not allowed by the node: {operation}"),
            ));
        }
        other => other?,
    }
    let changes = valence_db::DeviceUpdate {
        node_uuid: Some(attach.then_some(node.uuid)),
        ..Default::default()
    };
    state
        .db
        .run(move |conn| valence_db::devices::update(conn, device_uuid, &changes))
        .await?;
    Ok(())
}
