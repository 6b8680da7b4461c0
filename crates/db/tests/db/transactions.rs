//! Transactions and the async bridge: all or nothing, nesting, panics, concurrent writers.

use std::panic::AssertUnwindSafe;

use diesel::Connection;
use uuid::Uuid;
use valence_db::{
    ConflictKind, DbError, NewFlavor, NodeFilter, NodeProgress, NodeState, Page, PodManagerFilter,
    PodmState, flavors, nodes, pod_managers,
};

use crate::harness::{TestDb, backend_tests, new_node, new_podm, runtime};

backend_tests!(
    failing_transaction_leaves_nothing,
    panicking_transaction_leaves_nothing,
    repository_calls_join_the_callers_transaction,
    run_and_transaction_commit,
    concurrent_writers_lose_nothing,
    a_transaction_that_read_still_writes_after_another_write,
);

fn flavor(name: &str) -> NewFlavor {
    NewFlavor {
        name: name.to_owned(),
        description: None,
        properties: serde_json::json!({}),
    }
}

fn nothing_left(t: &TestDb) {
    let conn = &mut t.conn();
    assert!(
        pod_managers::list(conn, &PodManagerFilter::default(), Page::default())
            .unwrap()
            .is_empty()
    );
    assert!(
        nodes::list(conn, &NodeFilter::default(), Page::default())
            .unwrap()
            .is_empty()
    );
    assert!(
        flavors::list(conn, &Default::default(), Page::default())
            .unwrap()
            .is_empty()
    );
}

fn failing_transaction_leaves_nothing(t: &TestDb) {
    let rt = runtime();
    // The last write breaks a unique constraint: the earlier ones must go too.
    let outcome = rt.block_on(t.db.transaction(|conn| {
        let podm = pod_managers::create(conn, &new_podm("p"))?;
        nodes::create(conn, &new_node(podm.uuid, "n"))?;
        flavors::create(conn, &flavor("f"))?;
        flavors::create(conn, &flavor("f"))?;
        Ok(())
    }));
    assert!(
        outcome
            .as_ref()
            .is_err_and(|error| error.is_conflict(ConflictKind::Unique)),
        "{outcome:?}"
    );
    nothing_left(t);

    // A closure that gives up with its own error rolls back as well.
    let outcome: Result<(), DbError> = rt.block_on(t.db.transaction(|conn| {
        pod_managers::create(conn, &new_podm("q"))?;
        Err(DbError::NotFound {
            entity: "test",
            id: "gave up".to_owned(),
        })
    }));
    assert!(matches!(
        outcome,
        Err(DbError::NotFound { entity: "test", .. })
    ));
    nothing_left(t);

    // The same through a plain pooled connection.
    let mut conn = t.conn();
    let outcome = conn.transaction(|conn| -> Result<(), DbError> {
        pod_managers::create(conn, &new_podm("r"))?;
        nodes::create(conn, &new_node(Uuid::new_v4(), "orphan"))?;
        Ok(())
    });
    assert!(outcome.is_err_and(|error| error.is_conflict(ConflictKind::ForeignKey)));
    drop(conn);
    nothing_left(t);
}

fn panicking_transaction_leaves_nothing(t: &TestDb) {
    let rt = runtime();
    let db = t.db.clone();
    let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(db.transaction(|conn| -> Result<(), DbError> {
            pod_managers::create(conn, &new_podm("p"))?;
            panic!("bug in the middle of a transaction");
        }))
    }));
    let payload = panicked.expect_err("the panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"bug in the middle of a transaction")
    );
    nothing_left(t);
    // The pool still serves connections afterwards.
    rt.block_on(t.db.ping()).unwrap();
}

fn repository_calls_join_the_callers_transaction(t: &TestDb) {
    let rt = runtime();
    let podm = pod_managers::create(&mut t.conn(), &new_podm("p")).unwrap();
    let uuid = podm.uuid;
    // The safe delete succeeds inside, then the caller's transaction fails: nothing happened.
    let outcome: Result<(), DbError> = rt.block_on(t.db.transaction(move |conn| {
        pod_managers::delete_if_unused(conn, uuid)?;
        assert!(pod_managers::find(conn, uuid)?.is_none());
        Err(DbError::NotFound {
            entity: "test",
            id: "abort".to_owned(),
        })
    }));
    assert!(outcome.is_err());
    let kept = pod_managers::get(&mut t.conn(), uuid).unwrap();
    assert_eq!(
        kept.state,
        PodmState::Active,
        "the mark was rolled back too"
    );
}

fn run_and_transaction_commit(t: &TestDb) {
    let rt = runtime();
    rt.block_on(async {
        t.db.ping().await.unwrap();
        let podm =
            t.db.run(|conn| pod_managers::create(conn, &new_podm("p")))
                .await
                .unwrap();
        let node =
            t.db.transaction(move |conn| {
                let node = nodes::create(conn, &new_node(podm.uuid, "n"))?;
                nodes::set_progress(
                    conn,
                    node.uuid,
                    &NodeProgress {
                        state: NodeState::Ready,
                        compose_step: None,
                        resource_uri: Some("/redfish/v1/Nodes/1".to_owned()),
                    },
                )
            })
            .await
            .unwrap();
        let fetched =
            t.db.run(move |conn| nodes::get(conn, node.uuid))
                .await
                .unwrap();
        assert_eq!(fetched.state, NodeState::Ready);
        assert_eq!(fetched.podm_uuid, podm.uuid);
    });
}

fn concurrent_writers_lose_nothing(t: &TestDb) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 50;
    let podm = pod_managers::create(&mut t.conn(), &new_podm("busy")).unwrap();
    let pools = [t.db.clone(), t.second_pool()];
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let db = pools[thread % pools.len()].clone();
            let podm_uuid = podm.uuid;
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    let mut conn = db.get().unwrap();
                    let mut new = new_node(podm_uuid, &format!("t{thread}-n{i}"));
                    new.resource_uri = Some(format!("/redfish/v1/Nodes/{thread}-{i}"));
                    let node = nodes::create(&mut conn, &new).unwrap();
                    nodes::set_progress(
                        &mut conn,
                        node.uuid,
                        &NodeProgress {
                            state: NodeState::Ready,
                            compose_step: None,
                            resource_uri: None,
                        },
                    )
                    .unwrap();
                }
            });
        }
    });
    let conn = &mut t.conn();
    let all = nodes::list_by_podm(conn, podm.uuid, Page::default()).unwrap();
    assert_eq!(all.len(), THREADS * PER_THREAD);
    assert!(all.iter().all(|node| node.state == NodeState::Ready));
    assert_eq!(
        nodes::count_valence_made(conn, podm.uuid).unwrap(),
        (THREADS * PER_THREAD) as i64
    );
    let names: std::collections::HashSet<&str> = all.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.len(), THREADS * PER_THREAD);
}

/// A transaction reads, another connection writes outside any transaction, then the
/// transaction writes. On SQLite a deferred transaction fails there at once ("database is
/// locked", the busy timeout does not apply); transactions begin IMMEDIATE so the other write
/// waits for the commit instead. Both writes must land on both backends.
fn a_transaction_that_read_still_writes_after_another_write(t: &TestDb) {
    use std::sync::mpsc;
    use std::time::Duration;

    let rt = runtime();
    let podm = rt
        .block_on(t.db.run(|conn| pod_managers::create(conn, &new_podm("p"))))
        .unwrap();
    let (read_done, start_write) = mpsc::channel::<()>();
    let (write_done, other_wrote) = mpsc::channel::<()>();
    let db = t.db.clone();
    let other = std::thread::spawn(move || {
        start_write.recv().unwrap();
        let conn = &mut db.get().unwrap();
        let outcome = flavors::create(conn, &flavor("other"));
        let _ = write_done.send(());
        outcome
    });
    let outcome = rt.block_on(t.db.transaction(move |conn| {
        pod_managers::get(conn, podm.uuid)?;
        read_done.send(()).unwrap();
        // With the write lock held the other write waits for this commit; without it, it
        // lands now. Either way go on after at most a short deadline.
        let _ = other_wrote.recv_timeout(Duration::from_millis(300));
        nodes::create(conn, &new_node(podm.uuid, "n"))
    }));
    assert!(outcome.is_ok(), "{outcome:?}");
    let other = other.join().unwrap();
    assert!(other.is_ok(), "{other:?}");
    let conn = &mut t.conn();
    assert_eq!(
        nodes::list(conn, &NodeFilter::default(), Page::default())
            .unwrap()
            .len(),
        1
    );
    let flavors = flavors::list(conn, &Default::default(), Page::default()).unwrap();
    assert_eq!(flavors.len(), 1);
    assert_eq!(flavors[0].name, "other");
}
