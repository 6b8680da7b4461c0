//! A compact text format for scheduler tests: snapshots, requests and placements as one-liners.
//!
//! PODMs, one a line: `NAME[#UUID] STATE STATUS CAPABILITY: SYSTEM, SYSTEM, ...`
//! - STATE `active|cordoned|deleting`, STATUS `online|offline|unknown`,
//!   CAPABILITY `compose|readonly`; the uuid defaults to `u-NAME`.
//! - SYSTEM is `<cores>c/<GiB>G` then tags: `used` (composed), `critical`, `ssd<GiB>`,
//!   `hdd<GiB>`, `model=WORD`, `isa=WORD`, `mem=WORD`, `x<N>` (N identical systems).
//!   Systems are numbered `s1`, `s2`, ... per PODM (`/redfish/v1/Systems/sN`); by default an
//!   `Intel Xeon E5-2699 v4`, `x86-64`, `DDR4` system, free and healthy.
//!
//! Requests: space-separated `<cores>c`, `<GiB>G`, `ssd<GiB>`, `hdd<GiB>`, `disk<GiB>`,
//! `model=WORD`, `isa=WORD`, `mem=WORD`, `pack`, `spread`, `on=UUID`.
//!
//! Placements render as `CANDIDATE ... | NAME=FILTER ...`, a candidate as `NAME:BEST_FIT_ID`
//! (`NAME#UUID:...` when the uuid is not the default), `none | ...` when nothing passed, and
//! `unknown UUID` for an unknown requested PODM.

use valence_pod_manager_api::{
    DriveSummary, MemoryRequirement, ProcessorRequirement, Requirements, StorageRequirement,
    SystemSummary,
};

use crate::{Placement, PlacementRequest, PodmSnapshot, PodmState, PodmStatus, Policy, schedule};

/// Owns what a [`PodmSnapshot`] borrows.
#[derive(Debug, Clone)]
pub(crate) struct OwnedPodm {
    pub uuid: String,
    pub name: String,
    pub state: PodmState,
    pub status: PodmStatus,
    pub can_compose: bool,
    pub systems: Vec<SystemSummary>,
}

impl OwnedPodm {
    pub fn view(&self) -> PodmSnapshot<'_> {
        PodmSnapshot {
            uuid: &self.uuid,
            name: &self.name,
            state: self.state,
            status: self.status,
            can_compose: self.can_compose,
            systems: &self.systems,
        }
    }
}

pub(crate) fn podms(text: &str) -> Vec<OwnedPodm> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(podm)
        .collect()
}

fn podm(line: &str) -> OwnedPodm {
    let (head, systems) = line
        .split_once(':')
        .unwrap_or_else(|| panic!("missing ':' in {line:?}"));
    let head: Vec<&str> = head.split_whitespace().collect();
    let [id, state, status, capability] = head[..] else {
        panic!("expected NAME STATE STATUS CAPABILITY in {line:?}");
    };
    let (name, uuid) = match id.split_once('#') {
        Some((name, uuid)) => (name.to_owned(), uuid.to_owned()),
        None => (id.to_owned(), format!("u-{id}")),
    };
    let mut numbered = Vec::new();
    for spec in systems.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (template, copies) = system(spec);
        for _ in 0..copies {
            let n = numbered.len() + 1;
            numbered.push(SystemSummary {
                system_id: format!("s{n}"),
                resource_uri: format!("/redfish/v1/Systems/s{n}"),
                ..template.clone()
            });
        }
    }
    OwnedPodm {
        uuid,
        name,
        state: match state {
            "active" => PodmState::Active,
            "cordoned" => PodmState::Cordoned,
            "deleting" => PodmState::Deleting,
            other => panic!("unknown state {other:?}"),
        },
        status: match status {
            "online" => PodmStatus::Online,
            "offline" => PodmStatus::Offline,
            "unknown" => PodmStatus::Unknown,
            other => panic!("unknown status {other:?}"),
        },
        can_compose: match capability {
            "compose" => true,
            "readonly" => false,
            other => panic!("unknown capability {other:?}"),
        },
        systems: numbered,
    }
}

/// One system spec and how many copies of it.
fn system(spec: &str) -> (SystemSummary, usize) {
    let mut tokens = spec.split_whitespace();
    let size = tokens.next().unwrap_or_default();
    let (cores, gib) = size
        .strip_suffix('G')
        .and_then(|s| s.split_once("c/"))
        .unwrap_or_else(|| panic!("expected <cores>c/<GiB>G, got {size:?}"));
    let mut system = SystemSummary {
        system_id: String::new(),
        resource_uri: String::new(),
        name: None,
        uuid: None,
        description: None,
        health: Some("OK".into()),
        power_state: Some("Off".into()),
        processor_count: 2,
        total_cores: cores.parse().unwrap(),
        processor_model: Some("Intel Xeon E5-2699 v4".into()),
        instruction_set: Some("x86-64".into()),
        memory_mib: gib.parse::<u64>().unwrap() * 1024,
        memory_type: Some("DDR4".into()),
        drives: Vec::new(),
        mac_addresses: Vec::new(),
        location: None,
        composed_node: None,
    };
    let mut copies = 1;
    for tag in tokens {
        match tag {
            "used" => system.composed_node = Some("/redfish/v1/Nodes/n".into()),
            "critical" => system.health = Some("Critical".into()),
            _ if tag.starts_with("model=") => system.processor_model = Some(tag[6..].into()),
            _ if tag.starts_with("isa=") => system.instruction_set = Some(tag[4..].into()),
            _ if tag.starts_with("mem=") => system.memory_type = Some(tag[4..].into()),
            _ if tag.starts_with("ssd") || tag.starts_with("hdd") => {
                system.drives.push(DriveSummary {
                    capacity_gib: tag[3..].parse().unwrap(),
                    drive_type: Some(tag[..3].to_uppercase()),
                })
            }
            _ if tag.starts_with('x') => copies = tag[1..].parse().unwrap(),
            other => panic!("unknown system tag {other:?}"),
        }
    }
    (system, copies)
}

pub(crate) fn request(text: &str) -> PlacementRequest {
    let mut request = PlacementRequest::default();
    let req = &mut request.requirements;
    for token in text.split_whitespace() {
        match token {
            "pack" => request.policy = Policy::Pack,
            "spread" => request.policy = Policy::Spread,
            _ if token.starts_with("on=") => request.podm_uuid = Some(token[3..].into()),
            _ if token.starts_with("model=") => processor(req).model = Some(token[6..].into()),
            _ if token.starts_with("isa=") => {
                processor(req).instruction_set = Some(token[4..].into())
            }
            _ if token.starts_with("mem=") => memory(req).memory_type = Some(token[4..].into()),
            _ if token.starts_with("ssd") || token.starts_with("hdd") => {
                req.storage.push(StorageRequirement {
                    capacity_gib: Some(token[3..].parse().unwrap()),
                    drive_type: Some(token[..3].to_uppercase()),
                })
            }
            _ if token.starts_with("disk") => req.storage.push(StorageRequirement {
                capacity_gib: Some(token[4..].parse().unwrap()),
                drive_type: None,
            }),
            _ if token.ends_with('c') => {
                processor(req).total_cores = Some(token.trim_end_matches('c').parse().unwrap())
            }
            _ if token.ends_with('G') => {
                memory(req).capacity_mib =
                    Some(token.trim_end_matches('G').parse::<u64>().unwrap() * 1024)
            }
            other => panic!("unknown request token {other:?}"),
        }
    }
    request
}

fn processor(req: &mut Requirements) -> &mut ProcessorRequirement {
    req.processor.get_or_insert_with(Default::default)
}

fn memory(req: &mut Requirements) -> &mut MemoryRequirement {
    req.memory.get_or_insert_with(Default::default)
}

pub(crate) fn run(podms_text: &str, request_text: &str) -> Placement {
    schedule_owned(&podms(podms_text), &request(request_text))
}

pub(crate) fn schedule_owned(podms: &[OwnedPodm], request: &PlacementRequest) -> Placement {
    let snapshot: Vec<PodmSnapshot<'_>> = podms.iter().map(OwnedPodm::view).collect();
    schedule(&snapshot, request)
}

pub(crate) fn render(placement: &Placement) -> String {
    let label = |name: &str, uuid: &str| {
        if uuid == format!("u-{name}") {
            name.to_owned()
        } else {
            format!("{name}#{uuid}")
        }
    };
    let rejected = || {
        placement
            .rejected()
            .iter()
            .map(|r| format!("{}={}", label(&r.podm_name, &r.podm_uuid), r.filter))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = match placement {
        Placement::UnknownPodm { podm_uuid } => return format!("unknown {podm_uuid}"),
        Placement::NoValidPodm { .. } => format!("none | {}", rejected()),
        Placement::Ranked { candidates, .. } => {
            let ranked: Vec<String> = candidates
                .iter()
                .map(|c| {
                    let system = c.best_fit.rsplit('/').next().unwrap_or_default();
                    format!("{}:{system}", label(&c.podm_name, &c.podm_uuid))
                })
                .collect();
            format!("{} | {}", ranked.join(" "), rejected())
        }
    };
    text.trim_end().to_owned()
}
