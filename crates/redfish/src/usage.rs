//! Usage figures of one PODM, computed from its inventory.

use serde::Serialize;
use valence_pod_manager_api::{ComposedNodeSummary, SystemSummary};

/// How full a PODM is. Valence-made node counts come from the database and are added by the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub systems_total: u32,
    pub systems_free: u32,
    /// Composed nodes the PODM reports, whoever made them.
    pub nodes_total: u32,
    pub cores_total: u64,
    pub cores_free: u64,
    pub memory_total_mib: u64,
    pub memory_free_mib: u64,
    /// Share of systems in use, 0.0 (empty) to 1.0 (full); 0.0 for a PODM without systems.
    pub ratio: f64,
}

impl Usage {
    pub fn of(systems: &[SystemSummary], nodes: &[ComposedNodeSummary]) -> Self {
        let mut usage = Usage {
            nodes_total: count(nodes.len()),
            systems_total: count(systems.len()),
            ..Self::default()
        };
        // Saturating: a PODM reporting absurd figures must not wrap the totals to small ones.
        for system in systems {
            let cores = u64::from(system.total_cores);
            usage.cores_total = usage.cores_total.saturating_add(cores);
            usage.memory_total_mib = usage.memory_total_mib.saturating_add(system.memory_mib);
            if system.is_free() {
                usage.systems_free += 1;
                usage.cores_free = usage.cores_free.saturating_add(cores);
                usage.memory_free_mib = usage.memory_free_mib.saturating_add(system.memory_mib);
            }
        }
        if usage.systems_total > 0 {
            usage.ratio = f64::from(usage.systems_total - usage.systems_free)
                / f64::from(usage.systems_total);
        }
        usage
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
