//! Concurrent composes racing for few systems: on PostgreSQL two server instances share the
//! database and the PODMs; on SQLite one instance takes all requests. No resource may be
//! composed twice, no node may be lost or recorded twice, and every system is used.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::harness::{Backend, Ctx, Reply, Valence, on_both_backends};

on_both_backends!(concurrent_composes_never_use_a_system_twice);

/// Systems per simulated PODM here: 3 PODMs x 3 systems for 20 requests.
const SYSTEMS: usize = 3;
const COMPOSES_PER_SERVER: usize = 10;

fn concurrent_composes_never_use_a_system_twice(ctx: &Ctx) {
    let sims = ctx.sims_of(3, 131, SYSTEMS);
    let capacity = sims.len() * SYSTEMS;
    let (first, uuids) = ctx.server_with(&sims);
    let mut servers: Vec<Valence> = vec![first];
    let instances = match ctx.backend {
        Backend::Postgres => 2,
        Backend::Sqlite => 1,
    };
    while servers.len() < instances {
        let other = ctx.server(&[]);
        // The second instance knows the PODMs from the shared database alone.
        assert_eq!(other.list("/v1/pod_managers").len(), sims.len());
        assert_eq!(other.list("/v1/systems").len(), capacity);
        servers.push(other);
    }
    let requests = COMPOSES_PER_SERVER * 2;
    let per_server = requests / servers.len();

    // All requests at once, spread over the instances.
    let replies: Vec<(usize, Reply)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..servers.len())
            .flat_map(|s| (0..per_server).map(move |k| (s, k)))
            .map(|(s, k)| {
                let api = servers[s].api.clone();
                scope.spawn(move || {
                    (
                        s,
                        api.post("/v1/nodes", &json!({"name": format!("race-{s}-{k}")})),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(replies.len(), requests);

    // Accepted (202), or refused at once when the instance already saw every system taken.
    let mut accepted: BTreeMap<String, usize> = BTreeMap::new();
    for (server, reply) in &replies {
        match reply.status {
            202 => {
                let uuid = reply.json["uuid"].as_str().unwrap().to_owned();
                assert!(accepted.insert(uuid, *server).is_none(), "uuid given twice");
            }
            409 => {
                reply.expect_error(409, "NoValidPodm");
            }
            other => panic!("compose answered {other}: {}", reply.text),
        }
    }
    let mut ready = BTreeMap::new();
    let mut failed = 0;
    for (uuid, server) in &accepted {
        let node = servers[*server].settled_node(uuid);
        if node["state"] == "ready" {
            let key = (
                node["podm_id"].as_str().unwrap().to_owned(),
                node["resource_uri"].as_str().unwrap().to_owned(),
            );
            assert!(
                ready.insert(key, uuid.clone()).is_none(),
                "two nodes recorded for one PODM node: {node}"
            );
        } else {
            failed += 1;
            // Failed for lack of capacity: every candidate PODM refused the allocation.
            let error = node["last_error"].as_str().unwrap_or_default();
            assert!(error.contains("refused"), "{node}");
        }
    }

    // What the PODMs hold is exactly what Valence recorded as ready, each system once.
    let mut on_podms = BTreeSet::new();
    for (sim, uuid) in sims.iter().zip(&uuids) {
        let nodes = sim.nodes();
        let systems: BTreeSet<&str> = nodes.iter().map(|n| n.system_id.as_str()).collect();
        assert_eq!(systems.len(), nodes.len(), "a system used twice: {nodes:?}");
        assert_eq!(nodes.len() + sim.free_system_ids().len(), SYSTEMS);
        for node in &nodes {
            assert_eq!(node.state, "Assembled", "{node:?}");
            on_podms.insert((uuid.clone(), node.odata_id.clone()));
        }
    }
    let recorded: BTreeSet<(String, String)> = ready.keys().cloned().collect();
    assert_eq!(
        recorded, on_podms,
        "Valence's ready nodes and the PODMs' nodes differ"
    );
    // Capacity only shrinks during the race, so a node fails only once every system is taken.
    assert_eq!(
        ready.len(),
        capacity,
        "{failed} failed, {} ready",
        ready.len()
    );
    assert_eq!(ready.len() + failed, accepted.len());
    // The race reached the PODMs: each failed node was refused by at least one of them.
    let refusals: u64 = sims.iter().map(|s| s.stats().allocation_conflicts).sum();
    assert!(
        refusals >= failed as u64,
        "{refusals} refusals for {failed} failed nodes"
    );

    // Every instance lists every node once, as recorded.
    for server in &servers {
        let listed = server.list("/v1/nodes");
        let uuids: BTreeSet<&str> = listed.iter().map(|n| n["uuid"].as_str().unwrap()).collect();
        assert_eq!(uuids.len(), listed.len(), "a node listed twice");
        let expected: BTreeSet<&str> = accepted.keys().map(String::as_str).collect();
        assert_eq!(uuids, expected);
        assert_eq!(server.list("/v1/nodes?state=ready").len(), capacity);
    }
    for podm in servers[0].list("/v1/pod_managers?refresh=true") {
        assert_eq!(podm["usage"]["systems_free"], 0, "{podm}");
        assert_eq!(podm["usage"]["nodes_total"], SYSTEMS, "{podm}");
    }
}
