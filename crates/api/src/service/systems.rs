//! The aggregated inventory: systems of every PODM, tagged with their PODM, with ids that never
//! collide across PODMs (`<podm uuid>:<system id>`).

use std::sync::Arc;

use uuid::Uuid;
use valence_client::types;
use valence_pod_manager_api::SystemSummary;
use valence_redfish::PodmFailure;

use crate::AppState;
use crate::error::ApiError;
use crate::service::podms;

pub fn system_id(podm_uuid: &str, system_id: &str) -> String {
    format!("{podm_uuid}:{system_id}")
}

pub fn system_body(podm_uuid: &str, s: SystemSummary) -> types::System {
    let free = s.is_free();
    types::System {
        id: system_id(podm_uuid, &s.system_id),
        podm_id: podm_uuid.to_owned(),
        system_id: s.system_id,
        name: s.name,
        uuid: s.uuid,
        description: s.description,
        health: s.health,
        power_state: s.power_state,
        cpu: types::Cpu {
            count: s.processor_count,
            cores: s.total_cores,
            arch: s.instruction_set,
            model: s.processor_model,
        },
        // GiB with two decimals, as upstream Valence reported memory.
        ram: (s.memory_mib as f64 / 1024.0 * 100.0).round() / 100.0,
        ram_mib: s.memory_mib,
        storage: s
            .drives
            .into_iter()
            .map(|d| types::Drive {
                capacity_gib: d.capacity_gib,
                drive_type: d.drive_type,
            })
            .collect(),
        network: s.mac_addresses,
        location: s.location,
        resource_uri: s.resource_uri,
        free,
    }
}

/// Filters of `GET /v1/systems`.
#[derive(Debug, Default, Clone)]
pub struct SystemFilter {
    pub podm: Option<Uuid>,
    pub min_cores: Option<u32>,
    pub min_memory_mib: Option<u64>,
    pub free_only: bool,
}

impl SystemFilter {
    fn keeps(&self, s: &SystemSummary) -> bool {
        self.min_cores.is_none_or(|c| s.total_cores >= c)
            && self.min_memory_mib.is_none_or(|m| s.memory_mib >= m)
            && (!self.free_only || s.is_free())
    }
}

/// Whether `id` is the Valence id of system `system_id` of PODM `podm_uuid`, without building it.
fn is_system_id(id: &str, podm_uuid: &str, system_id: &str) -> bool {
    id.len() == podm_uuid.len() + 1 + system_id.len()
        && id.starts_with(podm_uuid)
        && id[podm_uuid.len()..].starts_with(':')
        && id.ends_with(system_id)
}

/// One page of the systems of all PODMs (or one), sorted by id: those after `marker` (the id of
/// the last system of the previous page), at most `limit`; and the PODMs that did not answer.
///
/// Only the page is built: the PODMs are taken in uuid order (uuids have one length, so that is
/// the order of the ids) and each inventory keeps its systems sorted by system id.
pub async fn list(
    state: &AppState,
    filter: &SystemFilter,
    refresh: bool,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<(Vec<types::System>, Vec<PodmFailure>), ApiError> {
    let limit = crate::paging::checked_limit(limit)?;
    let rows = match filter.podm {
        Some(uuid) => vec![podms::get_row(state, uuid).await?],
        None => podms::all_rows(state).await?,
    };
    let (inventories, failed) = podms::inventories(state, &rows, refresh).await;
    let mut ordered: Vec<(&String, &Arc<valence_redfish::Inventory>)> =
        inventories.iter().collect();
    ordered.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut kept = ordered.iter().flat_map(|(uuid, inv)| {
        inv.systems
            .iter()
            .filter(|s| filter.keeps(s))
            .map(move |s| (uuid.as_str(), s))
    });
    if let Some(marker) = marker
        && !kept
            .by_ref()
            .any(|(uuid, s)| is_system_id(marker, uuid, &s.system_id))
    {
        return Err(ApiError::new(
            crate::ErrorCode::InvalidQuery,
            format!("query parameter marker: {marker:?} is not an id of this list"),
        ));
    }
    let systems = kept
        .take(limit.map_or(usize::MAX, |n| n as usize))
        .map(|(uuid, s)| system_body(uuid, s.clone()))
        .collect();
    Ok((systems, failed))
}

/// One system by its Valence id (`<podm uuid>:<system id>`), or by a PODM's own system id when
/// exactly one PODM has it (what upstream clients pass).
pub async fn show(state: &AppState, id: &str) -> Result<types::System, ApiError> {
    if let Some((podm, system)) = id.split_once(':')
        && let Ok(podm_uuid) = Uuid::parse_str(podm)
    {
        let row = podms::get_row(state, podm_uuid)
            .await
            .map_err(|_| ApiError::not_found("system", id))?;
        let (inventories, failed) =
            podms::inventories(state, std::slice::from_ref(&row), false).await;
        if let Some(failure) = failed.first() {
            return Err(ApiError::new(
                crate::ErrorCode::PodmUnreachable,
                format!("pod manager {}: {}", failure.name, failure.reason),
            ));
        }
        let found = inventories
            .get(podm)
            .and_then(|inv| inv.systems.iter().find(|s| s.system_id == system).cloned())
            .ok_or_else(|| ApiError::not_found("system", id))?;
        return Ok(system_body(podm, found));
    }
    let rows = podms::all_rows(state).await?;
    let (inventories, _) = podms::inventories(state, &rows, false).await;
    let mut matches: Vec<(Arc<str>, SystemSummary)> = Vec::new();
    for (uuid, inv) in &inventories {
        for s in inv.systems.iter().filter(|s| s.system_id == id) {
            matches.push((Arc::from(uuid.as_str()), s.clone()));
        }
    }
    match matches.len() {
        0 => Err(ApiError::not_found("system", id)),
        1 => {
            let (uuid, s) = matches.remove(0);
            Ok(system_body(&uuid, s))
        }
        n => {
            let ids: Vec<String> = matches
                .iter()
                .map(|(u, s)| system_id(u, &s.system_id))
                .collect();
            Err(ApiError::conflict(format!(
                "{n} pod managers have a system {id:?}; use one of: {}",
                ids.join(", ")
            ))
            .with("candidates", ids.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ids_are_matched_without_being_built() {
        let podm = "4a7e0d0c-0000-4000-8000-000000000001";
        assert!(is_system_id(&system_id(podm, "12"), podm, "12"));
        assert!(!is_system_id(&system_id(podm, "12"), podm, "2"));
        assert!(!is_system_id(&system_id(podm, "2"), podm, "12"));
        assert!(!is_system_id(&format!("{podm}-12"), podm, "12"));
        assert!(!is_system_id("12", podm, "12"));
    }
}
