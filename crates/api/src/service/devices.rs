//! Pooled devices: Valence's record of each PODM's fabric endpoints, refreshed by a sync, and
//! attached to or detached from composed nodes.

use std::collections::HashSet;

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
    let listed = match podms::connection(state, row).await {
        Ok(conn) => {
            tokio::time::timeout(state.settings.aggregator.call_timeout, conn.list_devices())
                .await
                .unwrap_or_else(|_| {
                    Err(PodmError::Unreachable {
                        detail: "no answer in time".into(),
                    })
                })
        }
        Err(err) => {
            report.error = Some(err.detail);
            return report;
        }
    };
    let devices = match listed {
        Ok(devices) => devices,
        Err(PodmError::Unsupported { .. }) => Vec::new(),
        Err(err) => {
            report.error = Some(err.to_string());
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
                let device_type = d.device_type.clone().unwrap_or_else(|| "Unknown".into());
                let device_state = d.state.clone().unwrap_or_else(|| "Unknown".into());
                match valence_db::devices::find_by_resource_uri(conn, podm, &d.resource_uri)? {
                    Some(existing) => {
                        let changes = valence_db::DeviceUpdate {
                            device_type: Some(device_type),
                            state: Some(device_state),
                            properties: Some(properties(d)),
                            ..Default::default()
                        };
                        if existing.device_type != changes.device_type.clone().unwrap_or_default()
                            || existing.state != changes.state.clone().unwrap_or_default()
                            || Some(&existing.properties) != changes.properties.as_ref()
                        {
                            valence_db::devices::update(conn, existing.uuid, &changes)?;
                            counts.1 += 1;
                        }
                    }
                    None => {
                        let new = valence_db::NewDevice {
                            podm_uuid: podm,
                            node_uuid: None,
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
        _ => {}
    }
    let node_uri = node
        .resource_uri
        .clone()
        .ok_or_else(|| ApiError::conflict(format!("node {} is not composed yet", node.uuid)))?;
    let row = podms::get_row(state, node.podm_uuid).await?;
    let conn = podms::connection(state, &row).await?;
    if attach {
        conn.attach_device(&node_uri, &device.resource_uri).await?;
    } else {
        conn.detach_device(&node_uri, &device.resource_uri).await?;
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
