//! Table-driven tests of filters, weighers, tie-breaks and explanations, written in the
//! [`crate::fixture`] format, plus the JSON contract and a property test of determinism.

use proptest::prelude::*;
use serde_json::json;
use valence_pod_manager_api::{DriveSummary, Requirements, SystemSummary};

use crate::evaluate::CHECK_ORDER;
use crate::fixture::{OwnedPodm, podms, render, request, run, schedule_owned};
use crate::{Filter, Placement, PlacementRequest, PodmState, PodmStatus, Policy};

/// (what it shows, PODMs, request, expected rendering)
const CASES: &[(&str, &str, &str, &str)] = &[
    ("empty snapshot", "", "16c", "none |"),
    (
        "empty snapshot with a requested PODM",
        "",
        "on=u-a",
        "unknown u-a",
    ),
    (
        "one fitting PODM",
        "a active online compose: 16c/64G",
        "8c",
        "a:s1 |",
    ),
    (
        "state: cordoned and deleting PODMs are removed",
        "a active online compose: 16c/64G
         b cordoned online compose: 16c/64G
         c deleting online compose: 16c/64G",
        "",
        "a:s1 | b=state c=state",
    ),
    (
        "health: offline removed, unknown ranked after online though roomier",
        "a active online compose: 16c/64G, 16c/64G used
         b active unknown compose: 16c/64G, 16c/64G
         c active offline compose: 16c/64G",
        "",
        "a:s1 b:s1 | c=health",
    ),
    (
        "health: unknown ranked after online under pack too",
        "a active unknown compose: 16c/64G, 16c/64G used x9
         b active online compose: 16c/64G, 16c/64G",
        "pack",
        "b:s1 a:s1 |",
    ),
    (
        "health: an unknown PODM alone is a candidate",
        "a active unknown compose: 8c/32G",
        "",
        "a:s1 |",
    ),
    (
        "capability: a read-only PODM is removed",
        "a active online readonly: 16c/64G
         b active online compose: 8c/32G",
        "",
        "b:s1 | a=capability",
    ),
    (
        "capacity: composed, critical, too small, or no systems",
        "a active online compose: 16c/64G used, 16c/64G critical, 8c/64G
         b active online compose:
         c active online compose: 16c/64G used, 32c/128G",
        "16c",
        "c:s2 | a=capacity b=capacity",
    ),
    (
        "the first failing filter is the one named",
        "a cordoned offline readonly:
         b active offline readonly:
         c active online readonly:
         d active online compose:",
        "",
        "none | a=state b=health c=capability d=capacity",
    ),
    (
        "spread: larger share of free systems first",
        "a active online compose: 8c/32G, 8c/32G used x3
         b active online compose: 8c/32G, 8c/32G used
         c active online compose: 8c/32G x3, 8c/32G used",
        "",
        "c:s1 b:s1 a:s1 |",
    ),
    (
        "pack: smaller share of free systems first",
        "a active online compose: 8c/32G, 8c/32G used x3
         b active online compose: 8c/32G, 8c/32G used
         c active online compose: 8c/32G x3, 8c/32G used",
        "pack",
        "a:s1 b:s1 c:s1 |",
    ),
    (
        "spread: equal shares, then more free cores, then more free memory",
        "a active online compose: 8c/32G, 8c/32G used
         b active online compose: 32c/32G, 32c/32G used
         c active online compose: 8c/256G, 8c/32G used",
        "",
        "b:s1 c:s1 a:s1 |",
    ),
    (
        "pack: equal shares, then fewer free cores, then less free memory",
        "a active online compose: 8c/32G, 8c/32G used
         b active online compose: 32c/32G, 32c/32G used
         c active online compose: 8c/256G, 8c/32G used",
        "pack",
        "a:s1 c:s1 b:s1 |",
    ),
    (
        "share counts all free systems, not only the fitting ones",
        "a active online compose: 32c/128G, 8c/32G x3
         b active online compose: 32c/128G, 32c/128G used",
        "16c",
        "a:s1 b:s1 |",
    ),
    (
        "ties: by name, then uuid",
        "b#u-2 active online compose: 8c/32G
         a#u-3 active online compose: 8c/32G
         b#u-1 active online compose: 8c/32G",
        "",
        "a#u-3:s1 b#u-1:s1 b#u-2:s1 |",
    ),
    (
        "ties under pack: by name, then uuid",
        "b#u-2 active online compose: 8c/32G
         a#u-3 active online compose: 8c/32G
         b#u-1 active online compose: 8c/32G",
        "pack",
        "a#u-3:s1 b#u-1:s1 b#u-2:s1 |",
    ),
    (
        "requested PODM: only it is considered",
        "a active online compose: 8c/32G
         b active online compose: 8c/32G x4",
        "on=u-a",
        "a:s1 | b=requested_podm",
    ),
    (
        "requested PODM: cordoned",
        "a cordoned online compose: 8c/32G
         b active online compose: 8c/32G x4",
        "on=u-a",
        "none | a=state b=requested_podm",
    ),
    (
        "requested PODM: not enough capacity",
        "a active online compose: 4c/32G
         b active online compose: 8c/32G x4",
        "8c on=u-a",
        "none | a=capacity b=requested_podm",
    ),
    (
        "requested PODM: unknown uuid",
        "a active online compose: 8c/32G",
        "on=u-zz",
        "unknown u-zz",
    ),
    (
        "best fit: smallest normalised size, not fewest cores",
        "a active online compose: 64c/512G, 8c/512G, 16c/64G, 16c/32G",
        "8c 64G",
        "a:s3 |",
    ),
    (
        "best fit: ties go to less drive capacity, then resource_uri",
        "a active online compose: 16c/64G ssd1000, 16c/64G ssd500 x2",
        "8c",
        "a:s2 |",
    ),
    (
        "best fit under pack: fullest PODM, smallest system within it",
        "a active online compose: 32c/128G, 16c/64G, 16c/64G used
         b active online compose: 32c/128G, 16c/64G used x3",
        "16c pack",
        "b:s1 a:s2 |",
    ),
    (
        "best fit under spread",
        "a active online compose: 32c/128G, 16c/64G, 16c/64G used
         b active online compose: 32c/128G, 16c/64G used x3",
        "16c",
        "a:s2 b:s1 |",
    ),
    (
        "model, instruction set, memory type and drives",
        "a active online compose: 16c/64G model=EPYC ssd500
         b active online compose: 16c/64G hdd2000
         c active online compose: 16c/64G ssd500 isa=ARM-A64
         d active online compose: 16c/64G ssd500 mem=DDR3
         e active online compose: 16c/64G ssd500 hdd100",
        "model=xeon isa=x86-64 mem=ddr4 ssd200 disk50",
        "e:s1 | a=capacity b=capacity c=capacity d=capacity",
    ),
];

#[test]
fn table() {
    let mut failures = Vec::new();
    for (what, podms, req, expected) in CASES {
        let got = render(&run(podms, req));
        if got != *expected {
            failures.push(format!("{what}:\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Reversing the PODMs, the systems of each PODM, or both, changes nothing in the output.
#[test]
fn table_is_independent_of_input_order() {
    for (what, text, req, _) in CASES {
        let original = podms(text);
        let req = request(req);
        let expected = schedule_owned(&original, &req);
        let mut reversed = original.clone();
        reversed.reverse();
        let mut systems_reversed = original.clone();
        for podm in &mut systems_reversed {
            podm.systems.reverse();
        }
        let mut both = systems_reversed.clone();
        let half = both.len() / 2;
        both.rotate_left(half);
        for shuffled in [reversed, systems_reversed, both] {
            assert_eq!(schedule_owned(&shuffled, &req), expected, "{what}");
        }
    }
}

/// (PODMs, request, PODM, expected reason)
const REASONS: &[(&str, &str, &str, &str)] = &[
    ("a cordoned online compose: 8c/32G", "", "a", "cordoned"),
    (
        "a deleting online compose: 8c/32G",
        "",
        "a",
        "being deleted",
    ),
    ("a active offline compose: 8c/32G", "", "a", "offline"),
    (
        "a active online readonly: 8c/32G",
        "",
        "a",
        "cannot compose: no compose action (read-only Redfish service)",
    ),
    (
        "a active online compose: 8c/32G
         b active online compose: 8c/32G",
        "on=u-a",
        "b",
        "another PODM was requested (u-a)",
    ),
    (
        "a active online compose:",
        "",
        "a",
        "no systems in the inventory",
    ),
    (
        "a active online compose: 8c/32G used, 8c/32G critical",
        "",
        "a",
        "no free system (2 in all, composed or critical)",
    ),
    (
        "a active online compose: 4c/16G, 8c/16G, 2c/512G, 16c/64G used",
        "16c",
        "a",
        "0 of 3 free systems fit (4 in all); nearest miss /redfish/v1/Systems/s2: \
         processor.total_cores: 8 cores < 16",
    ),
    (
        "a active online compose: 8c/512G, 32c/16G, 32c/32G",
        "16c 64G",
        "a",
        "0 of 3 free systems fit (3 in all); nearest miss /redfish/v1/Systems/s3: \
         memory.capacity_mib: 32768 MiB < 65536 MiB",
    ),
    (
        // the EPYC system has the cores and fails only later, on the model: it is nearer
        "a active online compose: 8c/64G, 32c/64G model=EPYC, 12c/64G",
        "16c model=xeon",
        "a",
        "0 of 3 free systems fit (3 in all); nearest miss /redfish/v1/Systems/s2: \
         processor.model: model \"EPYC\" does not match \"xeon\"",
    ),
    (
        "a active online compose: 8c/32G, 8c/32G used",
        "16c",
        "a",
        "0 of 1 free system fits (2 in all); nearest miss /redfish/v1/Systems/s1: \
         processor.total_cores: 8 cores < 16",
    ),
    (
        "a active online compose: 16c/64G model=EPYC ssd1000, 16c/64G hdd100",
        "model=xeon ssd200",
        "a",
        "0 of 2 free systems fit (2 in all); nearest miss /redfish/v1/Systems/s2: \
         storage: no free drive of at least 200 GiB of type SSD",
    ),
    (
        "a active online compose: 16c/64G x3",
        "model=EPYC",
        "a",
        "0 of 3 free systems fit (3 in all); nearest miss /redfish/v1/Systems/s1: \
         processor.model: model \"Intel Xeon E5-2699 v4\" does not match \"EPYC\"",
    ),
];

#[test]
fn reasons() {
    let mut failures = Vec::new();
    for (text, req, podm, expected) in REASONS {
        let placement = run(text, req);
        let got = placement
            .rejected()
            .iter()
            .find(|r| r.podm_name == *podm)
            .map(|r| r.reason.as_str());
        if got != Some(*expected) {
            failures.push(format!(
                "{text} / {req:?}:\n  expected {expected}\n  got      {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn capacity_rejection_carries_figures() {
    let placement = run(
        "a active online compose: 8c/32G x2, 32c/16G, 16c/64G used",
        "16c 64G",
    );
    let [rejection] = placement.rejected() else {
        panic!("{placement:?}")
    };
    assert_eq!(rejection.filter, Filter::Capacity);
    let shortfall = rejection.capacity.as_ref().unwrap();
    assert_eq!((shortfall.systems_total, shortfall.systems_free), (4, 3));
    let miss = shortfall.nearest_miss.as_ref().unwrap();
    assert_eq!(miss.resource_uri, "/redfish/v1/Systems/s3");
    assert_eq!(miss.field, "memory.capacity_mib");
    assert_eq!(miss.detail, "16384 MiB < 65536 MiB");

    let placement = run("a active online compose: 8c/32G used", "");
    let shortfall = placement.rejected()[0].capacity.as_ref().unwrap();
    assert_eq!(shortfall.nearest_miss, None);
    assert_eq!(shortfall.systems_free, 0);
    // only capacity rejections carry figures
    assert_eq!(
        run("a cordoned online compose: 8c/32G", "").rejected()[0].capacity,
        None
    );
}

#[test]
fn candidates_carry_counts_scores_and_free_capacity() {
    let placement = run(
        "a active online compose: 32c/128G, 16c/64G, 8c/32G, 16c/64G used
         b active unknown compose: 16c/64G",
        "16c",
    );
    let [a, b] = placement.candidates() else {
        panic!("{placement:?}")
    };
    assert_eq!((a.rank, a.podm_name.as_str()), (1, "a"));
    assert_eq!((a.systems.total, a.systems.free), (4, 3));
    assert_eq!(a.score, 0.75);
    assert_eq!(a.cores_free, 56);
    assert_eq!(a.memory_free_mib, 224 * 1024);
    assert_eq!(a.best_fit, "/redfish/v1/Systems/s2");
    assert_eq!(a.status, PodmStatus::Online);
    assert_eq!((b.rank, b.status), (2, PodmStatus::Unknown));
    assert_eq!(b.score, 1.0);

    let pack = run("a active online compose: 16c/64G, 16c/64G used x3", "pack");
    assert_eq!(pack.candidates()[0].score, 0.75);
}

/// `CHECK_ORDER` ranks near misses; it must list the fields in the order `satisfies` checks them.
#[test]
fn check_order_follows_satisfies() {
    let req: Requirements = serde_json::from_value(json!({
        "processor": {"total_cores": 16, "model": "EPYC", "instruction_set": "ARM-A64"},
        "memory": {"capacity_mib": 65536, "type": "DDR5"},
        "storage": [{"capacity_gib": 100}]
    }))
    .unwrap();
    let mut system = podms("a active online compose: 8c/32G")
        .remove(0)
        .systems
        .remove(0);
    let fixes: [fn(&mut SystemSummary); 6] = [
        |s| s.total_cores = 16,
        |s| s.processor_model = Some("AMD EPYC 7763".into()),
        |s| s.instruction_set = Some("ARM-A64".into()),
        |s| s.memory_mib = 65536,
        |s| s.memory_type = Some("DDR5".into()),
        |s| {
            s.drives.push(DriveSummary {
                capacity_gib: 100,
                drive_type: None,
            })
        },
    ];
    for (field, fix) in CHECK_ORDER.iter().zip(fixes) {
        assert_eq!(system.satisfies(&req).unwrap_err().field, *field);
        fix(&mut system);
    }
    assert_eq!(system.satisfies(&req), Ok(()));
}

#[test]
fn json_contract() {
    let ranked = run(
        "a active online compose: 16c/64G, 16c/64G used
         b cordoned online compose: 16c/64G",
        "8c",
    );
    assert_eq!(
        serde_json::to_value(&ranked).unwrap(),
        json!({
            "outcome": "ranked",
            "candidates": [{
                "rank": 1, "podm_uuid": "u-a", "podm_name": "a", "status": "Online",
                "score": 0.5, "systems": {"total": 2, "free": 1},
                "cores_free": 16, "memory_free_mib": 65536,
                "best_fit": "/redfish/v1/Systems/s1"
            }],
            "rejected": [{
                "podm_uuid": "u-b", "podm_name": "b", "filter": "state", "reason": "cordoned"
            }]
        })
    );

    let none = run("a active online compose: 8c/32G", "16c");
    assert_eq!(
        serde_json::to_value(&none).unwrap(),
        json!({
            "outcome": "no_valid_podm",
            "rejected": [{
                "podm_uuid": "u-a", "podm_name": "a", "filter": "capacity",
                "reason": "0 of 1 free system fits (1 in all); nearest miss \
                           /redfish/v1/Systems/s1: processor.total_cores: 8 cores < 16",
                "capacity": {
                    "systems_total": 1, "systems_free": 1,
                    "nearest_miss": {
                        "resource_uri": "/redfish/v1/Systems/s1",
                        "field": "processor.total_cores", "detail": "8 cores < 16"
                    }
                }
            }]
        })
    );

    let unknown = run("", "on=u-x");
    assert_eq!(
        serde_json::to_value(&unknown).unwrap(),
        json!({"outcome": "unknown_podm", "podm_uuid": "u-x"})
    );

    for placement in [ranked, none, unknown] {
        let back: Placement =
            serde_json::from_value(serde_json::to_value(&placement).unwrap()).unwrap();
        assert_eq!(back, placement);
    }
}

#[test]
fn request_json_defaults_to_spread_and_accepts_flavor_properties() {
    let req: PlacementRequest = serde_json::from_value(json!({
        "requirements": {"processor": {"total_cores": "8"}}
    }))
    .unwrap();
    assert_eq!(req.policy, Policy::Spread);
    assert_eq!(req.podm_uuid, None);
    assert_eq!(req.requirements.min_cores(), 8);
    let pack: PlacementRequest =
        serde_json::from_value(json!({"requirements": {}, "policy": "pack", "podm_uuid": "u"}))
            .unwrap();
    assert_eq!(pack.policy, Policy::Pack);
    assert_eq!(
        serde_json::to_value(PodmState::Cordoned).unwrap(),
        "cordoned"
    );
}

#[test]
fn rejection_displays_name_uuid_filter_and_reason() {
    let placement = run("a active offline compose: 8c/32G", "");
    assert_eq!(
        placement.rejected()[0].to_string(),
        "a (u-a): health: offline"
    );
}

fn arb_system() -> impl Strategy<Value = SystemSummary> {
    (
        prop::sample::select(vec![4u32, 8, 16, 32]),
        prop::sample::select(vec![16u64, 32, 64, 128]),
        prop::sample::select(vec!["", "used", "critical"]),
        prop::collection::vec(
            (
                prop::sample::select(vec!["ssd", "hdd"]),
                prop::sample::select(vec![100u64, 500]),
            ),
            0..3,
        ),
        prop::sample::select(vec!["", "model=EPYC"]),
    )
        .prop_map(|(cores, gib, tag, drives, model)| {
            let drives: String = drives.iter().map(|(t, c)| format!(" {t}{c}")).collect();
            podms(&format!(
                "x active online compose: {cores}c/{gib}G {tag} {model}{drives}"
            ))
            .remove(0)
            .systems
            .remove(0)
        })
}

/// A PODM with its systems numbered, and the same systems in another order.
fn arb_podm() -> impl Strategy<Value = (OwnedPodm, Vec<SystemSummary>)> {
    (
        prop::sample::select(vec!["a", "b", "c"]),
        prop::sample::select(vec!["active", "active", "cordoned", "deleting"]),
        prop::sample::select(vec!["online", "online", "offline", "unknown"]),
        prop::sample::select(vec!["compose", "compose", "readonly"]),
        prop::collection::vec(arb_system(), 0..6),
    )
        .prop_flat_map(|(name, state, status, capability, systems)| {
            let mut podm = podms(&format!("{name} {state} {status} {capability}:")).remove(0);
            podm.systems = systems
                .into_iter()
                .enumerate()
                .map(|(i, s)| SystemSummary {
                    system_id: format!("s{i}"),
                    resource_uri: format!("/redfish/v1/Systems/s{i}"),
                    ..s
                })
                .collect();
            let shuffled = Just(podm.systems.clone()).prop_shuffle();
            (Just(podm), shuffled)
        })
}

fn arb_request() -> impl Strategy<Value = PlacementRequest> {
    (
        prop::sample::select(vec!["", "8c", "16c", "32c"]),
        prop::sample::select(vec!["", "32G", "64G"]),
        prop::sample::select(vec!["", "ssd200", "disk50 hdd100", "model=xeon"]),
        prop::sample::select(vec!["spread", "pack"]),
        prop::sample::select(vec!["", "on=u-0", "on=u-1", "on=u-missing"]),
    )
        .prop_map(|(c, m, d, p, on)| request(&format!("{c} {m} {d} {p} {on}")))
}

proptest! {
    /// Any order of PODMs and of systems gives the same placement, every PODM is accounted for
    /// once, and each verdict agrees with the PODM it is about.
    #[test]
    fn placement_is_deterministic_and_complete(
        pairs in prop::collection::vec(arb_podm(), 0..8)
            .prop_flat_map(|pairs| {
                let order: Vec<usize> = (0..pairs.len()).collect();
                (Just(pairs), Just(order).prop_shuffle())
            }),
        req in arb_request(),
    ) {
        let (pairs, order) = pairs;
        let original: Vec<OwnedPodm> = pairs
            .iter()
            .enumerate()
            .map(|(i, (podm, _))| OwnedPodm { uuid: format!("u-{i}"), ..podm.clone() })
            .collect();
        let shuffled: Vec<OwnedPodm> = order
            .iter()
            .map(|&i| OwnedPodm { systems: pairs[i].1.clone(), ..original[i].clone() })
            .collect();
        let placement = schedule_owned(&original, &req);
        prop_assert_eq!(&schedule_owned(&shuffled, &req), &placement);

        if let Placement::UnknownPodm { podm_uuid } = &placement {
            prop_assert!(original.iter().all(|p| &p.uuid != podm_uuid));
            return Ok(());
        }
        let mut seen: Vec<&str> = placement
            .candidates()
            .iter()
            .map(|c| c.podm_uuid.as_str())
            .chain(placement.rejected().iter().map(|r| r.podm_uuid.as_str()))
            .collect();
        seen.sort_unstable();
        let mut all: Vec<&str> = original.iter().map(|p| p.uuid.as_str()).collect();
        all.sort_unstable();
        prop_assert_eq!(seen, all);

        let by_uuid = |uuid: &str| original.iter().find(|p| p.uuid == uuid).unwrap();
        let mut last_status = PodmStatus::Online;
        for (i, c) in placement.candidates().iter().enumerate() {
            prop_assert_eq!(c.rank, i + 1);
            let podm = by_uuid(&c.podm_uuid);
            prop_assert_eq!(podm.state, PodmState::Active);
            prop_assert!(podm.can_compose && podm.status != PodmStatus::Offline);
            prop_assert!(!(last_status == PodmStatus::Unknown && c.status == PodmStatus::Online));
            last_status = c.status;
            // the best fit, by brute force over the formula of the crate documentation
            let free: Vec<&SystemSummary> = podm.systems.iter().filter(|s| s.is_free()).collect();
            let max_cores = free.iter().map(|s| u128::from(s.total_cores)).max().unwrap_or(1).max(1);
            let max_memory = free.iter().map(|s| u128::from(s.memory_mib)).max().unwrap_or(1).max(1);
            let best = free
                .iter()
                .filter(|s| s.satisfies(&req.requirements).is_ok())
                .min_by_key(|s| {
                    (
                        u128::from(s.total_cores) * max_memory + u128::from(s.memory_mib) * max_cores,
                        s.drives.iter().map(|d| d.capacity_gib).sum::<u64>(),
                        s.resource_uri.clone(),
                    )
                })
                .unwrap();
            prop_assert_eq!(&c.best_fit, &best.resource_uri);
            prop_assert_eq!((c.systems.total, c.systems.free), (podm.systems.len(), free.len()));
        }
        for r in placement.rejected() {
            let podm = by_uuid(&r.podm_uuid);
            let fits = podm
                .systems
                .iter()
                .any(|s| s.is_free() && s.satisfies(&req.requirements).is_ok());
            let expected = if req.podm_uuid.as_deref().is_some_and(|u| u != podm.uuid) {
                Filter::RequestedPodm
            } else if podm.state != PodmState::Active {
                Filter::State
            } else if podm.status == PodmStatus::Offline {
                Filter::Health
            } else if !podm.can_compose {
                Filter::Capability
            } else {
                prop_assert!(!fits);
                // the nearest miss, by brute force over the rule of the crate documentation
                let nearest = podm
                    .systems
                    .iter()
                    .filter(|s| s.is_free())
                    .map(|s| (s, s.satisfies(&req.requirements).unwrap_err()))
                    .max_by_key(|(s, m)| {
                        let stage = CHECK_ORDER.iter().position(|f| *f == m.field).unwrap();
                        let closeness = match m.field {
                            "processor.total_cores" => u64::from(s.total_cores),
                            "memory.capacity_mib" => s.memory_mib,
                            "storage" => s.drives.iter().map(|d| d.capacity_gib).sum(),
                            _ => 0,
                        };
                        (stage, closeness, std::cmp::Reverse(s.resource_uri.clone()))
                    });
                let got = r.capacity.as_ref().unwrap().nearest_miss.as_ref();
                prop_assert_eq!(
                    got.map(|m| (m.resource_uri.as_str(), m.field.as_str(), m.detail.as_str())),
                    nearest.as_ref().map(|(s, m)| (s.resource_uri.as_str(), m.field, m.detail.as_str()))
                );
                Filter::Capacity
            };
            prop_assert_eq!(r.filter, expected);
        }
    }
}

/// A PODM reporting absurd figures (a broken BMC) is ranked on saturated totals: no overflow.
#[test]
fn absurd_figures_saturate_instead_of_wrapping() {
    let mut podm = podms("a active online compose: 8c/32G ssd100 x2").remove(0);
    for s in &mut podm.systems {
        s.total_cores = u32::MAX;
        s.memory_mib = u64::MAX;
        for d in &mut s.drives {
            d.capacity_gib = u64::MAX;
        }
        s.drives.push(DriveSummary {
            capacity_gib: u64::MAX,
            drive_type: Some("SSD".into()),
        });
    }
    let placement = schedule_owned(&[podm], &request("8c 32G ssd100 disk50"));
    let candidate = &placement.candidates()[0];
    assert_eq!(candidate.memory_free_mib, u64::MAX);
    assert_eq!(candidate.cores_free, 2 * u64::from(u32::MAX));
}
