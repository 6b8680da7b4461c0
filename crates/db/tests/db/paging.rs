//! Paging with `limit` and `marker`: every row exactly once, in a stable order, on every table.

use std::collections::HashSet;

use diesel::RunQueryDsl;
use uuid::Uuid;
use valence_db::{
    DbError, DeviceFilter, FlavorFilter, NewDevice, NewFlavor, NodeFilter, Page, PodManagerFilter,
    devices, flavors, nodes, pod_managers,
};

use crate::harness::{TestDb, backend_tests, new_node, new_podm};

backend_tests!(
    nodes_page_exactly_once,
    equal_creation_times_page_exactly_once,
    other_tables_page_exactly_once,
    marker_must_exist,
);

/// Follows markers from the first page to an empty or short one; returns the uuids in order.
fn page_through(limit: u32, mut fetch: impl FnMut(Page) -> Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = Vec::new();
    let mut page = Page::first(limit);
    loop {
        let uuids = fetch(page);
        assert!(
            uuids.len() <= limit as usize,
            "a page is never longer than its limit"
        );
        seen.extend(&uuids);
        match uuids.last() {
            Some(last) if uuids.len() == limit as usize => page = Page::after(*last, limit),
            _ => return seen,
        }
    }
}

fn assert_each_once(paged: &[Uuid], all: &[Uuid]) {
    assert_eq!(
        paged, all,
        "pages concatenated give the whole list in its order"
    );
    let distinct: HashSet<&Uuid> = paged.iter().collect();
    assert_eq!(distinct.len(), paged.len(), "no row twice");
}

fn node_uuids(t: &TestDb, filter: &NodeFilter, page: Page) -> Vec<Uuid> {
    nodes::list(&mut t.conn(), filter, page)
        .unwrap()
        .into_iter()
        .map(|node| node.uuid)
        .collect()
}

fn nodes_page_exactly_once(t: &TestDb) {
    let conn = &mut t.conn();
    let p1 = pod_managers::create(conn, &new_podm("p1")).unwrap();
    let p2 = pod_managers::create(conn, &new_podm("p2")).unwrap();
    for i in 0..23 {
        let podm = if i % 4 == 0 { p2.uuid } else { p1.uuid };
        nodes::create(conn, &new_node(podm, &format!("n{i}"))).unwrap();
    }
    let all_rows = nodes::list(conn, &NodeFilter::default(), Page::default()).unwrap();
    assert_eq!(all_rows.len(), 23, "no limit lists everything");
    let mut keys: Vec<_> = all_rows.iter().map(|n| (n.created_at, n.uuid)).collect();
    keys.sort();
    let all: Vec<Uuid> = keys.into_iter().map(|(_, uuid)| uuid).collect();
    assert_eq!(
        all_rows.iter().map(|n| n.uuid).collect::<Vec<_>>(),
        all,
        "ordered by (created_at, uuid)"
    );

    for limit in [1, 5, 7, 23, 100] {
        let paged = page_through(limit, |page| node_uuids(t, &NodeFilter::default(), page));
        assert_each_once(&paged, &all);
    }

    let only_p1 = NodeFilter {
        podm_uuid: Some(p1.uuid),
        ..NodeFilter::default()
    };
    let all_p1 = node_uuids(t, &only_p1, Page::default());
    assert_eq!(all_p1.len(), 17);
    assert_each_once(
        &page_through(4, |page| node_uuids(t, &only_p1, page)),
        &all_p1,
    );
    let by_podm: Vec<Uuid> = page_through(6, |page| {
        nodes::list_by_podm(&mut t.conn(), p1.uuid, page)
            .unwrap()
            .into_iter()
            .map(|node| node.uuid)
            .collect()
    });
    assert_each_once(&by_podm, &all_p1);

    assert!(node_uuids(t, &NodeFilter::default(), Page::first(0)).is_empty());
    let last = *all.last().unwrap();
    assert!(node_uuids(t, &NodeFilter::default(), Page::after(last, 10)).is_empty());
    // A marker outside the filter still positions the page.
    let p2_node = node_uuids(
        t,
        &NodeFilter {
            podm_uuid: Some(p2.uuid),
            ..NodeFilter::default()
        },
        Page::first(1),
    )[0];
    let after_p2_node = node_uuids(
        t,
        &only_p1,
        Page {
            limit: None,
            marker: Some(p2_node),
        },
    );
    let position = all.iter().position(|uuid| *uuid == p2_node).unwrap();
    let expected: Vec<Uuid> = all[position + 1..]
        .iter()
        .copied()
        .filter(|uuid| all_p1.contains(uuid))
        .collect();
    assert_eq!(after_p2_node, expected);
}

fn equal_creation_times_page_exactly_once(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let first = nodes::create(conn, &new_node(podm.uuid, "n0")).unwrap();
    for i in 1..12 {
        nodes::create(conn, &new_node(podm.uuid, &format!("n{i}"))).unwrap();
    }
    // Rows created in the same microsecond must still page exactly once (uuid breaks ties).
    diesel::sql_query(format!(
        "UPDATE nodes SET created_at = (SELECT created_at FROM nodes WHERE uuid = '{}')",
        first.uuid
    ))
    .execute(&mut **conn)
    .unwrap();
    let all = node_uuids(t, &NodeFilter::default(), Page::default());
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "equal times fall back to uuid order");
    for limit in [1, 2, 5] {
        assert_each_once(
            &page_through(limit, |page| node_uuids(t, &NodeFilter::default(), page)),
            &all,
        );
    }
}

fn other_tables_page_exactly_once(t: &TestDb) {
    let conn = &mut t.conn();
    for i in 0..7 {
        pod_managers::create(conn, &new_podm(&format!("p{i}"))).unwrap();
        flavors::create(
            conn,
            &NewFlavor {
                name: format!("f{i}"),
                description: None,
                properties: serde_json::json!({}),
            },
        )
        .unwrap();
    }
    let podm = pod_managers::find_by_name(conn, "p0").unwrap().unwrap();
    for i in 0..7 {
        devices::create(
            conn,
            &NewDevice {
                podm_uuid: podm.uuid,
                node_uuid: None,
                device_type: "SSD".to_owned(),
                state: "free".to_owned(),
                resource_uri: format!("/d/{i}"),
                properties: serde_json::json!({}),
            },
        )
        .unwrap();
    }

    let podms = |page| -> Vec<Uuid> {
        pod_managers::list(&mut t.conn(), &PodManagerFilter::default(), page)
            .unwrap()
            .into_iter()
            .map(|p| p.uuid)
            .collect()
    };
    let flavor_uuids = |page| -> Vec<Uuid> {
        flavors::list(&mut t.conn(), &FlavorFilter::default(), page)
            .unwrap()
            .into_iter()
            .map(|f| f.uuid)
            .collect()
    };
    let device_uuids = |page| -> Vec<Uuid> {
        devices::list(&mut t.conn(), &DeviceFilter::default(), page)
            .unwrap()
            .into_iter()
            .map(|d| d.uuid)
            .collect()
    };
    let by_podm = |page| -> Vec<Uuid> {
        devices::list_by_podm(&mut t.conn(), podm.uuid, page)
            .unwrap()
            .into_iter()
            .map(|d| d.uuid)
            .collect()
    };
    for (name, fetch) in [
        ("pod managers", &podms as &dyn Fn(Page) -> Vec<Uuid>),
        ("flavors", &flavor_uuids),
        ("devices", &device_uuids),
        ("devices of a PODM", &by_podm),
    ] {
        let all = fetch(Page::default());
        assert_eq!(all.len(), 7, "{name}");
        for limit in [1, 3, 7] {
            assert_each_once(&page_through(limit, fetch), &all);
        }
    }
}

fn marker_must_exist(t: &TestDb) {
    let conn = &mut t.conn();
    let unknown = Uuid::new_v4();
    assert!(matches!(
        nodes::list(conn, &NodeFilter::default(), Page::after(unknown, 5)),
        Err(DbError::MarkerNotFound { entity: "node", marker }) if marker == unknown
    ));
    assert!(matches!(
        pod_managers::list(conn, &PodManagerFilter::default(), Page::after(unknown, 5)),
        Err(DbError::MarkerNotFound {
            entity: "pod manager",
            ..
        })
    ));
    assert!(matches!(
        flavors::list(conn, &FlavorFilter::default(), Page::after(unknown, 5)),
        Err(DbError::MarkerNotFound {
            entity: "flavor",
            ..
        })
    ));
    assert!(matches!(
        devices::list(conn, &DeviceFilter::default(), Page::after(unknown, 5)),
        Err(DbError::MarkerNotFound {
            entity: "device",
            ..
        })
    ));
}
