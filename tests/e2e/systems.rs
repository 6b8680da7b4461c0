//! `/v1/systems` over three PODMs: one list whose counts equal the sum of the PODMs', ids
//! unique across PODMs, and the filters checked against the simulators' seeded inventories.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::harness::{Ctx, SYSTEMS_PER_SIM, on_both_backends};

on_both_backends!(
    systems_of_all_podms_in_one_list,
    system_filters_match_the_inventories,
);

fn ids(systems: &[Value]) -> Vec<String> {
    systems
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

fn systems_of_all_podms_in_one_list(ctx: &Ctx) {
    let sims = ctx.sims(3, 51);
    let (valence, uuids) = ctx.server_with(&sims);

    let reply = valence.get("/v1/systems");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("valence-failed-podms"), None);
    let systems = reply.json.as_array().unwrap();
    let per_podm_total: u64 = valence
        .list("/v1/pod_managers")
        .iter()
        .map(|p| p["usage"]["systems_total"].as_u64().unwrap())
        .sum();
    assert_eq!(systems.len() as u64, per_podm_total);
    assert_eq!(systems.len(), 3 * SYSTEMS_PER_SIM);

    // Ids never collide: `<podm uuid>:<system id>`, and each PODM's systems are its own.
    let unique: BTreeSet<String> = ids(systems).into_iter().collect();
    assert_eq!(unique.len(), systems.len());
    for (sim, uuid) in sims.iter().zip(&uuids) {
        let mine: Vec<&Value> = systems.iter().filter(|s| s["podm_id"] == *uuid).collect();
        assert_eq!(mine.len(), SYSTEMS_PER_SIM);
        let expected = sim.expected_inventory();
        for system in mine {
            let system_id = system["system_id"].as_str().unwrap();
            assert_eq!(system["id"], format!("{uuid}:{system_id}"));
            let spec = expected.system(system_id).unwrap();
            assert_eq!(system["cpu"]["cores"], spec.total_cores(), "{system}");
            assert_eq!(system["ram_mib"], spec.memory_mib(), "{system}");
            assert_eq!(system["uuid"], spec.uuid.to_string(), "{system}");
            assert_eq!(system["free"], true);
        }
    }

    // Each PODM alone, and one system by its id.
    for uuid in &uuids {
        let own = valence.list(&format!("/v1/systems?podm_id={uuid}"));
        assert_eq!(own.len(), SYSTEMS_PER_SIM);
        assert!(own.iter().all(|s| s["podm_id"] == *uuid));
    }
    let one = &systems[5];
    let id = one["id"].as_str().unwrap();
    let shown = valence.get(&format!("/v1/systems/{id}"));
    assert_eq!(shown.expect(200), one);
    // Every simulator numbers its systems from 1: a bare id is ambiguous.
    let ambiguous = valence.get("/v1/systems/1");
    let body = ambiguous.expect_error(409, "Conflict");
    assert_eq!(body["candidates"].as_array().unwrap().len(), 3, "{body}");
    valence
        .get(&format!("/v1/systems/{}:999", uuids[0]))
        .expect_error(404, "NotFound");
    valence
        .get(&format!("/v1/systems?podm_id={}", uuid::Uuid::new_v4()))
        .expect_error(404, "NotFound");

    // Paging: `limit` and `marker` walk the same list.
    let mut walked = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            None => "/v1/systems?limit=5".to_owned(),
            Some(m) => format!("/v1/systems?limit=5&marker={m}"),
        };
        let page = valence.list(&path);
        assert!(page.len() <= 5);
        if page.is_empty() {
            break;
        }
        walked.extend(ids(&page));
        marker = walked.last().cloned();
    }
    assert_eq!(walked, ids(systems));
}

fn system_filters_match_the_inventories(ctx: &Ctx) {
    let sims = ctx.sims(3, 61);
    let (valence, uuids) = ctx.server_with(&sims);
    let specs: Vec<(String, u32, u64)> = sims
        .iter()
        .zip(&uuids)
        .flat_map(|(sim, uuid)| {
            sim.expected_inventory()
                .systems
                .iter()
                .map(|s| (format!("{uuid}:{}", s.id), s.total_cores(), s.memory_mib()))
                .collect::<Vec<_>>()
        })
        .collect();
    let expect = |keep: &dyn Fn(u32, u64) -> bool| -> BTreeSet<String> {
        specs
            .iter()
            .filter(|(_, cores, mib)| keep(*cores, *mib))
            .map(|(id, _, _)| id.clone())
            .collect()
    };
    let listed =
        |path: &str| -> BTreeSet<String> { ids(&valence.list(path)).into_iter().collect() };

    // Thresholds in the middle of the inventories, so each filter keeps some and drops some.
    let mut cores: Vec<u32> = specs.iter().map(|s| s.1).collect();
    cores.sort_unstable();
    let min_cores = cores[cores.len() / 2];
    let mut memory: Vec<u64> = specs.iter().map(|s| s.2).collect();
    memory.sort_unstable();
    let min_memory = memory[memory.len() / 2];

    let by_cores = listed(&format!("/v1/systems?min_cores={min_cores}"));
    assert_eq!(by_cores, expect(&|c, _| c >= min_cores));
    assert!(!by_cores.is_empty() && by_cores.len() < specs.len());
    let by_memory = listed(&format!("/v1/systems?min_memory_mib={min_memory}"));
    assert_eq!(by_memory, expect(&|_, m| m >= min_memory));
    assert!(!by_memory.is_empty() && by_memory.len() < specs.len());
    assert_eq!(
        listed(&format!(
            "/v1/systems?min_cores={min_cores}&min_memory_mib={min_memory}&podm_id={}",
            uuids[1]
        )),
        expect(&|c, m| c >= min_cores && m >= min_memory)
            .into_iter()
            .filter(|id| id.starts_with(&uuids[1]))
            .collect()
    );
    assert!(listed("/v1/systems?min_cores=100000").is_empty());

    // `free`: a composed node's system drops out, on its PODM and in the aggregate.
    assert_eq!(listed("/v1/systems?free=true").len(), specs.len());
    let node = valence.compose_ready(&json!({"name": "busy", "podm_id": uuids[2]}));
    let used = &sims[2].nodes()[0].system_id;
    let used_id = format!("{}:{used}", uuids[2]);
    let free = listed("/v1/systems?free=true");
    assert_eq!(free.len(), specs.len() - 1);
    assert!(!free.contains(&used_id));
    let all: HashMap<String, Value> = valence
        .list("/v1/systems")
        .into_iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s))
        .collect();
    assert_eq!(all.len(), specs.len());
    assert_eq!(all[&used_id]["free"], false);
    assert_eq!(node["system"]["id"], used_id.as_str(), "{node}");

    // Unknown and malformed filters are refused, naming the parameter.
    let unknown = valence.get("/v1/systems?colour=red");
    unknown.expect_error(400, "InvalidQuery");
    assert!(unknown.detail().contains("colour"), "{}", unknown.text);
    let malformed = valence.get("/v1/systems?min_cores=many");
    malformed.expect_error(400, "InvalidQuery");
    assert!(
        malformed.detail().contains("min_cores"),
        "{}",
        malformed.text
    );
    let bad_podm = valence.get("/v1/systems?podm_id=not-a-uuid");
    bad_podm.expect_error(400, "InvalidQuery");
    assert!(bad_podm.detail().contains("podm_id"), "{}", bad_podm.text);
    let bad_marker = valence.get("/v1/systems?marker=nope");
    bad_marker.expect_error(400, "InvalidQuery");
}
