//! Instances and ownership of work under way: heartbeats, claims that exactly one racer wins.

use chrono::Duration;
use valence_db::{NodeUpdate, instances, nodes, pod_managers, utc_now};

use crate::harness::{TestDb, backend_tests, new_node, new_podm};

backend_tests!(
    heartbeats_register_and_age,
    claims_go_to_exactly_one_owner,
    in_progress_lists_steps_under_way,
);

fn heartbeats_register_and_age(t: &TestDb) {
    let conn = &mut t.conn();
    let now = utc_now();
    instances::heartbeat(conn, "a", Some("host-a"), now - Duration::seconds(60)).unwrap();
    instances::heartbeat(conn, "b", None, now).unwrap();
    assert_eq!(
        instances::alive_since(conn, now - Duration::seconds(10)).unwrap(),
        vec!["b".to_owned()]
    );
    instances::heartbeat(conn, "a", Some("host-a"), now).unwrap();
    assert_eq!(
        instances::alive_since(conn, now - Duration::seconds(10)).unwrap(),
        vec!["a".to_owned(), "b".to_owned()]
    );
    instances::heartbeat(conn, "b", None, now - Duration::seconds(120)).unwrap();
    assert_eq!(
        instances::remove_silent(conn, now - Duration::seconds(10)).unwrap(),
        1
    );
    instances::remove(conn, "a").unwrap();
    assert!(
        instances::alive_since(conn, now - Duration::seconds(600))
            .unwrap()
            .is_empty()
    );
}

fn claims_go_to_exactly_one_owner(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let mut new = new_node(podm.uuid, "n");
    new.owner_instance = Some("dead".to_owned());
    let node = nodes::create(conn, &new).unwrap();
    assert_eq!(node.owner_instance.as_deref(), Some("dead"));
    assert!(
        !nodes::claim(conn, node.uuid, None, "x").unwrap(),
        "expected owner differs"
    );
    assert!(nodes::claim(conn, node.uuid, Some("dead"), "x").unwrap());
    assert!(
        !nodes::claim(conn, node.uuid, Some("dead"), "y").unwrap(),
        "the second racer loses"
    );
    assert_eq!(
        nodes::get(conn, node.uuid)
            .unwrap()
            .owner_instance
            .as_deref(),
        Some("x")
    );
    nodes::update(
        conn,
        node.uuid,
        &NodeUpdate {
            owner_instance: Some(None),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(nodes::claim(conn, node.uuid, None, "y").unwrap());

    assert!(pod_managers::claim(conn, podm.uuid, None, "x").unwrap());
    assert!(!pod_managers::claim(conn, podm.uuid, None, "y").unwrap());
    assert_eq!(
        pod_managers::get(conn, podm.uuid)
            .unwrap()
            .owner_instance
            .as_deref(),
        Some("x")
    );
}

fn in_progress_lists_steps_under_way(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let busy = nodes::create(conn, &new_node(podm.uuid, "busy")).unwrap();
    let done = nodes::create(conn, &new_node(podm.uuid, "done")).unwrap();
    nodes::update(
        conn,
        done.uuid,
        &NodeUpdate {
            compose_step: Some(None),
            ..Default::default()
        },
    )
    .unwrap();
    let listed: Vec<_> = nodes::in_progress(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.uuid)
        .collect();
    assert_eq!(listed, vec![busy.uuid]);
}
