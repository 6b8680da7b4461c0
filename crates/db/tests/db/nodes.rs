//! Nodes: CRUD, uniques, filters, idempotency key, progress, counts.

use std::collections::BTreeSet;

use uuid::Uuid;
use valence_db::{
    ConflictKind, DbError, ManagedBy, NodeCounts, NodeFilter, NodeProgress, NodeState, NodeUpdate,
    Page, nodes, pod_managers,
};

use crate::harness::{TestDb, backend_tests, new_node, new_podm};

backend_tests!(
    create_get_update_delete,
    resource_uri_is_unique_per_podm,
    idempotency_key_is_unique_and_found,
    progress_is_recorded,
    list_filters,
    counts_of_a_podm,
    state_check_constraint_holds,
    node_moves_to_another_podm_while_placed,
);

fn node_moves_to_another_podm_while_placed(t: &TestDb) {
    let conn = &mut t.conn();
    let first = pod_managers::create(conn, &new_podm("first")).unwrap();
    let second = pod_managers::create(conn, &new_podm("second")).unwrap();
    let node = nodes::create(conn, &new_node(first.uuid, "n")).unwrap();
    let moved = nodes::update(
        conn,
        node.uuid,
        &NodeUpdate {
            podm_uuid: Some(second.uuid),
            ..NodeUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(moved.podm_uuid, second.uuid);
    assert_eq!(nodes::count_by_podm(conn, first.uuid).unwrap(), 0);
    pod_managers::delete(conn, first.uuid).unwrap();
    let err = nodes::update(
        conn,
        node.uuid,
        &NodeUpdate {
            podm_uuid: Some(Uuid::new_v4()),
            ..NodeUpdate::default()
        },
    )
    .unwrap_err();
    assert!(err.is_conflict(ConflictKind::ForeignKey), "{err:?}");
}

fn create_get_update_delete(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let flavor = Uuid::new_v4();
    let mut new = new_node(podm.uuid, "web-1");
    new.description = Some("front end".to_owned());
    new.flavor_uuid = Some(flavor);
    new.system_uri = Some("/redfish/v1/Systems/3".to_owned());
    let created = nodes::create(conn, &new).unwrap();
    assert_eq!(created.name, "web-1");
    assert_eq!(created.podm_uuid, podm.uuid);
    assert_eq!(created.state, NodeState::Allocating);
    assert_eq!(created.compose_step.as_deref(), Some("allocate"));
    assert_eq!(created.flavor_uuid, Some(flavor));
    assert_eq!(created.requirements["cpu"]["cores"], 4);
    assert_eq!(created.managed_by, ManagedBy::Valence);
    assert_eq!(created.system_uri.as_deref(), Some("/redfish/v1/Systems/3"));
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(nodes::get(conn, created.uuid).unwrap(), created);

    let updated = nodes::update(
        conn,
        created.uuid,
        &NodeUpdate {
            name: Some("web-01".to_owned()),
            description: Some(None),
            node_index: Some(Some("7".to_owned())),
            resource_uri: Some(Some("/redfish/v1/Nodes/7".to_owned())),
            state: Some(NodeState::Ready),
            compose_step: Some(None),
            flavor_uuid: Some(None),
            requirements: Some(serde_json::json!({ "ram_gib": 64 })),
            managed_by: Some(ManagedBy::User),
            last_error: Some(Some("transient".to_owned())),
            ..NodeUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(updated.name, "web-01");
    assert_eq!(updated.description, None);
    assert_eq!(updated.node_index.as_deref(), Some("7"));
    assert_eq!(updated.resource_uri.as_deref(), Some("/redfish/v1/Nodes/7"));
    assert_eq!(updated.system_uri, created.system_uri);
    assert_eq!(updated.state, NodeState::Ready);
    assert_eq!(updated.compose_step, None);
    assert_eq!(updated.flavor_uuid, None);
    assert_eq!(updated.requirements, serde_json::json!({ "ram_gib": 64 }));
    assert_eq!(updated.managed_by, ManagedBy::User);
    assert_eq!(updated.last_error.as_deref(), Some("transient"));
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(
        nodes::find_by_resource_uri(conn, podm.uuid, "/redfish/v1/Nodes/7")
            .unwrap()
            .map(|node| node.uuid),
        Some(created.uuid)
    );
    assert!(
        nodes::find_by_resource_uri(conn, Uuid::new_v4(), "/redfish/v1/Nodes/7")
            .unwrap()
            .is_none()
    );

    nodes::delete(conn, created.uuid).unwrap();
    assert!(nodes::find(conn, created.uuid).unwrap().is_none());
    assert!(matches!(
        nodes::get(conn, created.uuid),
        Err(DbError::NotFound { entity: "node", .. })
    ));
    assert!(matches!(
        nodes::delete(conn, created.uuid),
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        nodes::update(conn, created.uuid, &NodeUpdate::default()),
        Err(DbError::NotFound { .. })
    ));
}

fn resource_uri_is_unique_per_podm(t: &TestDb) {
    let conn = &mut t.conn();
    let p1 = pod_managers::create(conn, &new_podm("p1")).unwrap();
    let p2 = pod_managers::create(conn, &new_podm("p2")).unwrap();
    let at = |podm, uri: Option<&str>, name: &str| {
        let mut node = new_node(podm, name);
        node.resource_uri = uri.map(str::to_owned);
        node
    };
    nodes::create(conn, &at(p1.uuid, Some("/redfish/v1/Nodes/1"), "a")).unwrap();
    match nodes::create(conn, &at(p1.uuid, Some("/redfish/v1/Nodes/1"), "b")) {
        Err(DbError::Conflict {
            entity: "node",
            kind: ConflictKind::Unique,
            constraint,
            ..
        }) => assert_eq!(
            constraint.as_deref(),
            Some("nodes_podm_uuid_resource_uri_key")
        ),
        other => panic!("expected a unique conflict, got {other:?}"),
    }
    // The same URI on another PODM is another node.
    nodes::create(conn, &at(p2.uuid, Some("/redfish/v1/Nodes/1"), "c")).unwrap();
    // Nodes still allocating have no URI yet; there may be several.
    nodes::create(conn, &at(p1.uuid, None, "d")).unwrap();
    nodes::create(conn, &at(p1.uuid, None, "e")).unwrap();
    // Names are not unique (upstream Valence allows duplicates).
    nodes::create(conn, &at(p1.uuid, None, "a")).unwrap();
    assert_eq!(nodes::count_by_podm(conn, p1.uuid).unwrap(), 4);
}

fn idempotency_key_is_unique_and_found(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let mut keyed = new_node(podm.uuid, "keyed");
    keyed.idempotency_key = Some("req-42".to_owned());
    let node = nodes::create(conn, &keyed).unwrap();
    assert_eq!(node.idempotency_key.as_deref(), Some("req-42"));
    assert_eq!(
        nodes::find_by_idempotency_key(conn, "req-42")
            .unwrap()
            .map(|n| n.uuid),
        Some(node.uuid)
    );
    assert!(
        nodes::find_by_idempotency_key(conn, "req-43")
            .unwrap()
            .is_none()
    );
    match nodes::create(conn, &keyed) {
        Err(DbError::Conflict {
            kind: ConflictKind::Unique,
            constraint,
            ..
        }) => assert_eq!(constraint.as_deref(), Some("nodes_idempotency_key_key")),
        other => panic!("expected a unique conflict, got {other:?}"),
    }
    // Nodes without a key do not collide.
    nodes::create(conn, &new_node(podm.uuid, "free-1")).unwrap();
    nodes::create(conn, &new_node(podm.uuid, "free-2")).unwrap();
}

fn progress_is_recorded(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let node = nodes::create(conn, &new_node(podm.uuid, "n")).unwrap();
    let allocated = nodes::set_progress(
        conn,
        node.uuid,
        &NodeProgress {
            state: NodeState::Assembling,
            compose_step: Some("assemble".to_owned()),
            resource_uri: Some("/redfish/v1/Nodes/9".to_owned()),
        },
    )
    .unwrap();
    assert_eq!(allocated.state, NodeState::Assembling);
    assert_eq!(allocated.compose_step.as_deref(), Some("assemble"));
    assert_eq!(
        allocated.resource_uri.as_deref(),
        Some("/redfish/v1/Nodes/9")
    );

    let ready = nodes::set_progress(
        conn,
        node.uuid,
        &NodeProgress {
            state: NodeState::Ready,
            compose_step: None,
            resource_uri: None,
        },
    )
    .unwrap();
    assert_eq!(ready.state, NodeState::Ready);
    assert_eq!(ready.compose_step, None, "no call under way any more");
    assert_eq!(
        ready.resource_uri.as_deref(),
        Some("/redfish/v1/Nodes/9"),
        "a known URI is kept"
    );
    assert!(matches!(
        nodes::set_progress(
            conn,
            Uuid::new_v4(),
            &NodeProgress {
                state: NodeState::Failed,
                compose_step: None,
                resource_uri: None
            }
        ),
        Err(DbError::NotFound { .. })
    ));
}

fn list_filters(t: &TestDb) {
    let conn = &mut t.conn();
    let p1 = pod_managers::create(conn, &new_podm("p1")).unwrap();
    let p2 = pod_managers::create(conn, &new_podm("p2")).unwrap();
    let flavor = Uuid::new_v4();
    let a = nodes::create(conn, &new_node(p1.uuid, "a")).unwrap();
    let mut b_new = new_node(p1.uuid, "b");
    b_new.flavor_uuid = Some(flavor);
    b_new.managed_by = ManagedBy::User;
    let b = nodes::create(conn, &b_new).unwrap();
    let c = nodes::create(conn, &new_node(p2.uuid, "a")).unwrap();
    nodes::update(
        conn,
        c.uuid,
        &NodeUpdate {
            state: Some(NodeState::Failed),
            ..NodeUpdate::default()
        },
    )
    .unwrap();

    let uuids = |filter: NodeFilter| -> BTreeSet<Uuid> {
        nodes::list(&mut t.conn(), &filter, Page::default())
            .unwrap()
            .into_iter()
            .map(|node| node.uuid)
            .collect()
    };
    let set = |uuids: &[Uuid]| uuids.iter().copied().collect::<BTreeSet<Uuid>>();
    assert_eq!(uuids(NodeFilter::default()), set(&[a.uuid, b.uuid, c.uuid]));
    assert_eq!(
        uuids(NodeFilter {
            podm_uuid: Some(p1.uuid),
            ..Default::default()
        }),
        set(&[a.uuid, b.uuid])
    );
    assert_eq!(
        uuids(NodeFilter {
            state: Some(NodeState::Failed),
            ..Default::default()
        }),
        set(&[c.uuid])
    );
    assert_eq!(
        uuids(NodeFilter {
            name: Some("a".to_owned()),
            ..Default::default()
        }),
        set(&[a.uuid, c.uuid])
    );
    assert_eq!(
        uuids(NodeFilter {
            managed_by: Some(ManagedBy::User),
            ..Default::default()
        }),
        set(&[b.uuid])
    );
    assert_eq!(
        uuids(NodeFilter {
            flavor_uuid: Some(flavor),
            ..Default::default()
        }),
        set(&[b.uuid])
    );
    assert_eq!(
        uuids(NodeFilter {
            podm_uuid: Some(p2.uuid),
            name: Some("a".to_owned()),
            state: Some(NodeState::Failed),
            ..Default::default()
        }),
        set(&[c.uuid])
    );
    let of_p1: BTreeSet<Uuid> = nodes::list_by_podm(conn, p1.uuid, Page::default())
        .unwrap()
        .into_iter()
        .map(|node| node.uuid)
        .collect();
    assert_eq!(of_p1, set(&[a.uuid, b.uuid]));
    assert!(
        nodes::list_by_podm(conn, Uuid::new_v4(), Page::default())
            .unwrap()
            .is_empty()
    );
}

fn counts_of_a_podm(t: &TestDb) {
    let conn = &mut t.conn();
    let p1 = pod_managers::create(conn, &new_podm("p1")).unwrap();
    let p2 = pod_managers::create(conn, &new_podm("p2")).unwrap();
    let empty = pod_managers::create(conn, &new_podm("empty")).unwrap();
    for i in 0..3 {
        nodes::create(conn, &new_node(p1.uuid, &format!("v{i}"))).unwrap();
    }
    let mut adopted = new_node(p1.uuid, "adopted");
    adopted.managed_by = ManagedBy::User;
    nodes::create(conn, &adopted).unwrap();
    let mut adopted_p2 = new_node(p2.uuid, "adopted");
    adopted_p2.managed_by = ManagedBy::User;
    nodes::create(conn, &adopted_p2).unwrap();

    assert_eq!(nodes::count_valence_made(conn, p1.uuid).unwrap(), 3);
    assert_eq!(nodes::count_by_podm(conn, p1.uuid).unwrap(), 4);
    assert_eq!(nodes::count_valence_made(conn, p2.uuid).unwrap(), 0);
    assert_eq!(nodes::count_by_podm(conn, p2.uuid).unwrap(), 1);
    assert_eq!(nodes::count_valence_made(conn, empty.uuid).unwrap(), 0);

    let counts = nodes::counts_per_podm(conn).unwrap();
    assert_eq!(
        counts.get(&p1.uuid),
        Some(&NodeCounts {
            total: 4,
            valence_made: 3
        })
    );
    assert_eq!(
        counts.get(&p2.uuid),
        Some(&NodeCounts {
            total: 1,
            valence_made: 0
        })
    );
    assert_eq!(counts.get(&empty.uuid), None);
}

fn state_check_constraint_holds(t: &TestDb) {
    use diesel::RunQueryDsl;
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let node = nodes::create(conn, &new_node(podm.uuid, "n")).unwrap();
    let bogus = diesel::sql_query(format!(
        "UPDATE nodes SET state = 'exploded' WHERE uuid = '{}'",
        node.uuid
    ))
    .execute(&mut **conn);
    assert!(
        bogus.is_err(),
        "the CHECK constraint must refuse an unknown state"
    );
    assert_eq!(
        nodes::get(conn, node.uuid).unwrap().state,
        NodeState::Allocating
    );
}
