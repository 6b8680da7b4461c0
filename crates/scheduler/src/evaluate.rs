//! The filters applied to one PODM: the first one that removes it and why, or the figures the
//! weighers rank it by.

use std::cmp::Reverse;

use valence_pod_manager_api::{Mismatch, SystemSummary};

use crate::input::{PlacementRequest, PodmSnapshot, PodmState, PodmStatus};
use crate::output::{CapacityShortfall, Filter, NearestMiss, Rejection, SystemCounts};

pub(crate) enum Verdict<'a> {
    Fits(Fit<'a>),
    Rejected(Rejection),
}

/// A PODM that passed every filter, with what the weighers need. Borrows the snapshot.
pub(crate) struct Fit<'a> {
    pub podm: PodmSnapshot<'a>,
    pub counts: SystemCounts,
    pub cores_free: u64,
    pub memory_free_mib: u64,
    pub best_fit: &'a SystemSummary,
}

/// The fields `SystemSummary::satisfies` checks, in the order it checks them: a system whose
/// first mismatch comes later in this list got further. A test pins this order to `satisfies`.
pub(crate) const CHECK_ORDER: [&str; 6] = [
    "processor.total_cores",
    "processor.model",
    "processor.instruction_set",
    "memory.capacity_mib",
    "memory.type",
    "storage",
];

pub(crate) fn evaluate<'a>(
    podm: &PodmSnapshot<'a>,
    request: &PlacementRequest,
    scratch: &mut Scratch,
) -> Verdict<'a> {
    let reject = |filter: Filter, reason: String| {
        Verdict::Rejected(Rejection {
            podm_uuid: podm.uuid.to_owned(),
            podm_name: podm.name.to_owned(),
            filter,
            reason,
            capacity: None,
        })
    };
    if let Some(wanted) = request.podm_uuid.as_deref()
        && podm.uuid != wanted
    {
        return reject(
            Filter::RequestedPodm,
            format!("another PODM was requested ({wanted})"),
        );
    }
    match podm.state {
        PodmState::Active => {}
        PodmState::Cordoned => return reject(Filter::State, "cordoned".to_owned()),
        PodmState::Deleting => return reject(Filter::State, "being deleted".to_owned()),
    }
    if podm.status == PodmStatus::Offline {
        return reject(Filter::Health, "offline".to_owned());
    }
    if !podm.can_compose {
        return reject(
            Filter::Capability,
            "cannot compose: no compose action (read-only Redfish service)".to_owned(),
        );
    }
    match scan(podm.systems, request, scratch) {
        Ok(scan) => Verdict::Fits(Fit {
            podm: *podm,
            counts: scan.counts,
            cores_free: scan.cores_free,
            memory_free_mib: scan.memory_free_mib,
            best_fit: scan.best_fit,
        }),
        Err(shortfall) => Verdict::Rejected(Rejection {
            podm_uuid: podm.uuid.to_owned(),
            podm_name: podm.name.to_owned(),
            filter: Filter::Capacity,
            reason: capacity_reason(&shortfall),
            capacity: Some(shortfall),
        }),
    }
}

/// What the capacity filter learned about a PODM that passed it.
struct Scan<'a> {
    counts: SystemCounts,
    cores_free: u64,
    memory_free_mib: u64,
    best_fit: &'a SystemSummary,
}

/// Scratch space reused across the PODMs of one schedule, so scanning allocates nothing per PODM.
#[derive(Default)]
pub(crate) struct Scratch {
    free: Vec<FreeSystem>,
}

/// A free system with the figures that size it, copied from the inline fields of
/// `SystemSummary`: sorting and sizing read this compact buffer, and only the systems the
/// search reaches have their heap data (model, drives, uri) read. At 100,000 systems the
/// snapshot does not fit in cache, and those pointer reads were most of the cost.
#[derive(Clone, Copy)]
struct FreeSystem {
    index: usize,
    cores: u32,
    memory_mib: u64,
    /// `cores / C + memory / M` cross-multiplied by `C * M` (exact).
    size: u128,
}

/// Pass 1 reads each system's inline fields (and its health, for `is_free`): free totals and the
/// free systems. The best
/// fit is then searched among the free systems in ascending size, so `satisfies` runs only on
/// systems no larger than the best fit. A PODM where nothing fits gets a second pass for the
/// nearest miss.
fn scan<'a>(
    systems: &'a [SystemSummary],
    request: &PlacementRequest,
    scratch: &mut Scratch,
) -> Result<Scan<'a>, CapacityShortfall> {
    let free_systems = &mut scratch.free;
    free_systems.clear();
    let mut cores_free = 0u64;
    let mut memory_free_mib = 0u64;
    let mut max_cores = 1u64;
    let mut max_memory_mib = 1u64;
    for (index, system) in systems.iter().enumerate() {
        if !system.is_free() {
            continue;
        }
        let cores = u64::from(system.total_cores);
        // Saturating: a PODM reporting absurd figures must not wrap the totals to small ones.
        cores_free = cores_free.saturating_add(cores);
        memory_free_mib = memory_free_mib.saturating_add(system.memory_mib);
        max_cores = max_cores.max(cores);
        max_memory_mib = max_memory_mib.max(system.memory_mib);
        free_systems.push(FreeSystem {
            index,
            cores: system.total_cores,
            memory_mib: system.memory_mib,
            size: 0,
        });
    }
    for f in free_systems.iter_mut() {
        f.size = u128::from(f.cores) * u128::from(max_memory_mib)
            + u128::from(f.memory_mib) * u128::from(max_cores);
    }
    free_systems.sort_unstable_by_key(|f| f.size);

    match best_fit(systems, free_systems, request) {
        Some(best_fit) => Ok(Scan {
            counts: SystemCounts {
                total: systems.len(),
                free: free_systems.len(),
            },
            cores_free,
            memory_free_mib,
            best_fit,
        }),
        None => Err(CapacityShortfall {
            systems_total: systems.len(),
            systems_free: free_systems.len(),
            nearest_miss: nearest_miss(systems, free_systems, request),
        }),
    }
}

/// The fitting system of smallest size; equal sizes go to less drive capacity, then the smaller
/// `resource_uri`. `free` is sorted by size, so the search stops at the first size larger than a
/// fit, and within a size a system is checked only if it would win the tie. Systems below the
/// requested cores or memory are skipped without calling `satisfies`, which would only reject
/// them (it is still the one judge of every system that can fit).
fn best_fit<'a>(
    systems: &'a [SystemSummary],
    free: &[FreeSystem],
    request: &PlacementRequest,
) -> Option<&'a SystemSummary> {
    let min_cores = request.requirements.min_cores();
    let min_memory_mib = request.requirements.min_memory_mib();
    let mut best: Option<(u128, u64, &'a SystemSummary)> = None;
    for f in free {
        if best.is_some_and(|(size, _, _)| f.size > size) {
            break;
        }
        if f.cores < min_cores || f.memory_mib < min_memory_mib {
            continue;
        }
        let system = &systems[f.index];
        let drives = drive_capacity_gib(system);
        let wins_tie = best.is_none_or(|(_, best_drives, best_system)| {
            (drives, &system.resource_uri) < (best_drives, &best_system.resource_uri)
        });
        if wins_tie && system.satisfies(&request.requirements).is_ok() {
            best = Some((f.size, drives, system));
        }
    }
    best.map(|(_, _, system)| system)
}

/// The free system that got furthest through `satisfies`; `None` when no system is free.
/// Reorders `free` by position so the systems are read in memory order.
fn nearest_miss(
    systems: &[SystemSummary],
    free: &mut [FreeSystem],
    request: &PlacementRequest,
) -> Option<NearestMiss> {
    free.sort_unstable_by_key(|f| f.index);
    let min_cores = request.requirements.min_cores();
    let mut nearest: Option<(MissKey<'_>, usize)> = None;
    for f in free.iter() {
        let system = &systems[f.index];
        let key = if f.cores < min_cores {
            // `satisfies` checks cores first (CHECK_ORDER, pinned by a test), so the miss is
            // known without building its text; only the nearest one's text is built below.
            MissKey {
                stage: 0,
                closeness: u64::from(f.cores),
                resource_uri: Reverse(&system.resource_uri),
            }
        } else {
            match system.satisfies(&request.requirements) {
                Err(mismatch) => miss_key(system, &mismatch),
                Ok(()) => continue,
            }
        };
        if nearest.as_ref().is_none_or(|(near, _)| key > *near) {
            nearest = Some((key, f.index));
        }
    }
    let (_, index) = nearest?;
    let system = &systems[index];
    let mismatch = system.satisfies(&request.requirements).err()?;
    Some(NearestMiss {
        resource_uri: system.resource_uri.clone(),
        field: mismatch.field.to_owned(),
        detail: mismatch.detail,
    })
}

/// Larger is nearer: how far through `satisfies` the system got, how close it came in the
/// dimension that failed, then the smaller `resource_uri`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct MissKey<'a> {
    stage: usize,
    closeness: u64,
    resource_uri: Reverse<&'a str>,
}

fn miss_key<'a>(system: &'a SystemSummary, mismatch: &Mismatch) -> MissKey<'a> {
    let closeness = match mismatch.field {
        "processor.total_cores" => u64::from(system.total_cores),
        "memory.capacity_mib" => system.memory_mib,
        "storage" => drive_capacity_gib(system),
        _ => 0,
    };
    MissKey {
        stage: CHECK_ORDER
            .iter()
            .position(|f| *f == mismatch.field)
            .unwrap_or(0),
        closeness,
        resource_uri: Reverse(&system.resource_uri),
    }
}

fn drive_capacity_gib(system: &SystemSummary) -> u64 {
    system
        .drives
        .iter()
        .map(|d| d.capacity_gib)
        .fold(0, u64::saturating_add)
}

fn capacity_reason(shortfall: &CapacityShortfall) -> String {
    let total = shortfall.systems_total;
    let free = shortfall.systems_free;
    match &shortfall.nearest_miss {
        _ if total == 0 => "no systems in the inventory".to_owned(),
        _ if free == 0 => format!("no free system ({total} in all, composed or critical)"),
        Some(miss) => format!(
            "0 of {free} free {} ({total} in all); nearest miss {}: {}: {}",
            if free == 1 {
                "system fits"
            } else {
                "systems fit"
            },
            miss.resource_uri,
            miss.field,
            miss.detail
        ),
        // Unreachable in practice: a free system either fits or yields a mismatch.
        None => format!("0 of {free} free systems fit ({total} in all)"),
    }
}
