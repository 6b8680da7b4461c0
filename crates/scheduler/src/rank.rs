//! The weighers: orders the PODMs that passed the filters by policy, with a deterministic
//! tie-break, and turns them into numbered candidates.

use std::cmp::Ordering;

use crate::evaluate::Fit;
use crate::input::{PodmStatus, Policy};
use crate::output::Candidate;

pub(crate) fn rank(mut fits: Vec<Fit<'_>>, policy: Policy) -> Vec<Candidate> {
    fits.sort_by(|a, b| compare(a, b, policy));
    fits.into_iter()
        .enumerate()
        .map(|(i, fit)| Candidate {
            rank: i + 1,
            podm_uuid: fit.podm.uuid.to_owned(),
            podm_name: fit.podm.name.to_owned(),
            status: fit.podm.status,
            score: score(&fit, policy),
            systems: fit.counts,
            cores_free: fit.cores_free,
            memory_free_mib: fit.memory_free_mib,
            best_fit: fit.best_fit.resource_uri.clone(),
        })
        .collect()
}

/// `Less` when `a` is to be tried before `b`.
fn compare(a: &Fit<'_>, b: &Fit<'_>, policy: Policy) -> Ordering {
    health_order(a.podm.status)
        .cmp(&health_order(b.podm.status))
        .then_with(|| match policy {
            Policy::Spread => roominess(a, b).reverse(),
            Policy::Pack => roominess(a, b),
        })
        .then_with(|| a.podm.name.cmp(b.podm.name))
        .then_with(|| a.podm.uuid.cmp(b.podm.uuid))
}

fn health_order(status: PodmStatus) -> u8 {
    match status {
        PodmStatus::Online => 0,
        // Offline PODMs never get here; keep them last should that change.
        PodmStatus::Unknown => 1,
        PodmStatus::Offline => 2,
    }
}

/// `Greater` when `a` has more room: share of free systems (exact, cross-multiplied), then free
/// cores, then free memory.
fn roominess(a: &Fit<'_>, b: &Fit<'_>) -> Ordering {
    let a_share = a.counts.free as u128 * b.counts.total as u128;
    let b_share = b.counts.free as u128 * a.counts.total as u128;
    a_share
        .cmp(&b_share)
        .then(a.cores_free.cmp(&b.cores_free))
        .then(a.memory_free_mib.cmp(&b.memory_free_mib))
}

fn score(fit: &Fit<'_>, policy: Policy) -> f64 {
    // A fit has a free system that satisfies the request, so `total` is never zero.
    let total = fit.counts.total as f64;
    match policy {
        Policy::Spread => fit.counts.free as f64 / total,
        Policy::Pack => (fit.counts.total - fit.counts.free) as f64 / total,
    }
}
