//! Scheduling time for 10, 100 and 1,000 PODMs of 100 systems each, under both policies, when
//! nothing fits (every free system yields a mismatch), and with a requested PODM.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use valence_pod_manager_api::{DriveSummary, Requirements, SystemSummary};
use valence_scheduler::{PlacementRequest, PodmSnapshot, PodmState, PodmStatus, Policy, schedule};

const SYSTEMS_PER_PODM: usize = 100;

struct OwnedPodm {
    uuid: String,
    name: String,
    state: PodmState,
    status: PodmStatus,
    can_compose: bool,
    systems: Vec<SystemSummary>,
}

/// A varied but reproducible fleet: four system sizes, about 60 % composed, a few critical
/// systems, and some cordoned, offline or read-only PODMs.
fn fleet(podms: usize) -> Vec<OwnedPodm> {
    const SIZES: [(u32, u64); 4] = [(8, 32), (16, 64), (32, 128), (48, 256)];
    (0..podms)
        .map(|i| {
            let systems = (0..SYSTEMS_PER_PODM)
                .map(|j| {
                    let (cores, gib) = SIZES[(i * 7 + j * 13) % SIZES.len()];
                    SystemSummary {
                        system_id: format!("{j}"),
                        resource_uri: format!("/redfish/v1/Systems/{j}"),
                        name: Some(format!("system {j}")),
                        uuid: None,
                        description: None,
                        health: Some(if (i + j) % 97 == 0 { "Critical" } else { "OK" }.into()),
                        power_state: Some("Off".into()),
                        processor_count: 2,
                        total_cores: cores,
                        processor_model: Some("Intel(R) Xeon(R) CPU E5-2699 v4".into()),
                        instruction_set: Some("x86-64".into()),
                        memory_mib: gib * 1024,
                        memory_type: Some("DDR4".into()),
                        drives: vec![DriveSummary {
                            capacity_gib: 480,
                            drive_type: Some("SSD".into()),
                        }],
                        mac_addresses: vec![],
                        location: None,
                        composed_node: ((i * 31 + j * 17) % 10 < 6)
                            .then(|| format!("/redfish/v1/Nodes/{j}")),
                    }
                })
                .collect();
            OwnedPodm {
                uuid: format!("00000000-0000-4000-8000-{i:012}"),
                name: format!("podm-{i:04}"),
                state: match i % 20 {
                    3 => PodmState::Cordoned,
                    13 => PodmState::Deleting,
                    _ => PodmState::Active,
                },
                status: match i % 20 {
                    7 => PodmStatus::Offline,
                    9 => PodmStatus::Unknown,
                    _ => PodmStatus::Online,
                },
                can_compose: i % 50 != 11,
                systems,
            }
        })
        .collect()
}

fn snapshot(fleet: &[OwnedPodm]) -> Vec<PodmSnapshot<'_>> {
    fleet
        .iter()
        .map(|p| PodmSnapshot {
            uuid: &p.uuid,
            name: &p.name,
            state: p.state,
            status: p.status,
            can_compose: p.can_compose,
            systems: &p.systems,
        })
        .collect()
}

fn requirements(json: &str) -> Requirements {
    serde_json::from_str(json).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let common = requirements(
        r#"{"processor":{"total_cores":16,"model":"Xeon"},"memory":{"capacity_mib":65536},"storage":[{"capacity_gib":200,"type":"SSD"}]}"#,
    );
    let spread = PlacementRequest {
        requirements: common.clone(),
        podm_uuid: None,
        policy: Policy::Spread,
    };
    let pack = PlacementRequest {
        policy: Policy::Pack,
        ..spread.clone()
    };
    let too_big = PlacementRequest {
        requirements: requirements(r#"{"processor":{"total_cores":64}}"#),
        ..spread.clone()
    };

    let mut group = c.benchmark_group("schedule");
    for podms in [10, 100, 1000] {
        let fleet = fleet(podms);
        let snapshot = snapshot(&fleet);
        group.bench_with_input(BenchmarkId::new("spread", podms), &snapshot, |b, s| {
            b.iter(|| schedule(black_box(s), black_box(&spread)))
        });
        if podms == 1000 {
            group.bench_with_input(BenchmarkId::new("pack", podms), &snapshot, |b, s| {
                b.iter(|| schedule(black_box(s), black_box(&pack)))
            });
            group.bench_with_input(
                BenchmarkId::new("nothing_fits", podms),
                &snapshot,
                |b, s| b.iter(|| schedule(black_box(s), black_box(&too_big))),
            );
            let requested = PlacementRequest {
                podm_uuid: Some(fleet[500].uuid.clone()),
                ..spread.clone()
            };
            group.bench_with_input(BenchmarkId::new("requested", podms), &snapshot, |b, s| {
                b.iter(|| schedule(black_box(s), black_box(&requested)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
