//! Devices: CRUD, unique URI per PODM, filters, and what happens when their node or PODM goes.

use std::collections::BTreeSet;

use uuid::Uuid;
use valence_db::{
    ConflictKind, DbError, DeviceFilter, DeviceUpdate, NewDevice, Page, devices, nodes,
    pod_managers,
};

use crate::harness::{TestDb, backend_tests, new_node, new_podm};

backend_tests!(
    create_get_update_delete,
    resource_uri_is_unique_per_podm,
    list_filters,
    deleting_node_detaches_and_deleting_podm_removes,
);

fn device(podm_uuid: Uuid, uri: &str) -> NewDevice {
    NewDevice {
        podm_uuid,
        node_uuid: None,
        device_type: "SSD".to_owned(),
        state: "free".to_owned(),
        resource_uri: uri.to_owned(),
        properties: serde_json::json!({ "capacity_gib": 960 }),
    }
}

fn create_get_update_delete(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let node = nodes::create(conn, &new_node(podm.uuid, "n")).unwrap();
    let created = devices::create(conn, &device(podm.uuid, "/redfish/v1/Drives/1")).unwrap();
    assert_eq!(created.podm_uuid, podm.uuid);
    assert_eq!(created.node_uuid, None);
    assert_eq!(created.properties["capacity_gib"], 960);
    assert_eq!(devices::get(conn, created.uuid).unwrap(), created);
    assert_eq!(
        devices::find_by_resource_uri(conn, podm.uuid, "/redfish/v1/Drives/1").unwrap(),
        Some(created.clone())
    );

    let attached = devices::update(
        conn,
        created.uuid,
        &DeviceUpdate {
            node_uuid: Some(Some(node.uuid)),
            state: Some("allocated".to_owned()),
            properties: Some(serde_json::json!({ "capacity_gib": 1920 })),
            ..DeviceUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(attached.node_uuid, Some(node.uuid));
    assert_eq!(attached.state, "allocated");
    assert_eq!(attached.device_type, "SSD");
    assert_eq!(attached.properties["capacity_gib"], 1920);

    let detached = devices::update(
        conn,
        created.uuid,
        &DeviceUpdate {
            node_uuid: Some(None),
            ..DeviceUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(detached.node_uuid, None);

    let to_missing_node = devices::update(
        conn,
        created.uuid,
        &DeviceUpdate {
            node_uuid: Some(Some(Uuid::new_v4())),
            ..DeviceUpdate::default()
        },
    );
    assert!(to_missing_node.is_err_and(|error| error.is_conflict(ConflictKind::ForeignKey)));

    devices::delete(conn, created.uuid).unwrap();
    assert!(devices::find(conn, created.uuid).unwrap().is_none());
    assert!(matches!(
        devices::get(conn, created.uuid),
        Err(DbError::NotFound {
            entity: "device",
            ..
        })
    ));
    assert!(matches!(
        devices::delete(conn, created.uuid),
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        devices::update(conn, created.uuid, &DeviceUpdate::default()),
        Err(DbError::NotFound { .. })
    ));
    let orphan = devices::create(conn, &device(Uuid::new_v4(), "/redfish/v1/Drives/2"));
    assert!(orphan.is_err_and(|error| error.is_conflict(ConflictKind::ForeignKey)));
}

fn resource_uri_is_unique_per_podm(t: &TestDb) {
    let conn = &mut t.conn();
    let p1 = pod_managers::create(conn, &new_podm("p1")).unwrap();
    let p2 = pod_managers::create(conn, &new_podm("p2")).unwrap();
    devices::create(conn, &device(p1.uuid, "/redfish/v1/Drives/1")).unwrap();
    match devices::create(conn, &device(p1.uuid, "/redfish/v1/Drives/1")) {
        Err(DbError::Conflict {
            entity: "device",
            kind: ConflictKind::Unique,
            constraint,
            ..
        }) => assert_eq!(
            constraint.as_deref(),
            Some("devices_podm_uuid_resource_uri_key")
        ),
        other => panic!("expected a unique conflict, got {other:?}"),
    }
    devices::create(conn, &device(p2.uuid, "/redfish/v1/Drives/1")).unwrap();
}

fn list_filters(t: &TestDb) {
    let conn = &mut t.conn();
    let p1 = pod_managers::create(conn, &new_podm("p1")).unwrap();
    let p2 = pod_managers::create(conn, &new_podm("p2")).unwrap();
    let node = nodes::create(conn, &new_node(p1.uuid, "n")).unwrap();
    let a = devices::create(conn, &device(p1.uuid, "/d/1")).unwrap();
    let mut nic = device(p1.uuid, "/d/2");
    nic.device_type = "NIC".to_owned();
    nic.node_uuid = Some(node.uuid);
    nic.state = "allocated".to_owned();
    let b = devices::create(conn, &nic).unwrap();
    let c = devices::create(conn, &device(p2.uuid, "/d/1")).unwrap();

    let uuids = |filter: DeviceFilter| -> BTreeSet<Uuid> {
        devices::list(&mut t.conn(), &filter, Page::default())
            .unwrap()
            .into_iter()
            .map(|device| device.uuid)
            .collect()
    };
    let set = |uuids: &[Uuid]| uuids.iter().copied().collect::<BTreeSet<Uuid>>();
    assert_eq!(
        uuids(DeviceFilter::default()),
        set(&[a.uuid, b.uuid, c.uuid])
    );
    assert_eq!(
        uuids(DeviceFilter {
            podm_uuid: Some(p1.uuid),
            ..Default::default()
        }),
        set(&[a.uuid, b.uuid])
    );
    assert_eq!(
        uuids(DeviceFilter {
            node_uuid: Some(node.uuid),
            ..Default::default()
        }),
        set(&[b.uuid])
    );
    assert_eq!(
        uuids(DeviceFilter {
            device_type: Some("SSD".to_owned()),
            ..Default::default()
        }),
        set(&[a.uuid, c.uuid])
    );
    assert_eq!(
        uuids(DeviceFilter {
            state: Some("allocated".to_owned()),
            ..Default::default()
        }),
        set(&[b.uuid])
    );
    let of_p2: Vec<Uuid> = devices::list_by_podm(conn, p2.uuid, Page::default())
        .unwrap()
        .into_iter()
        .map(|device| device.uuid)
        .collect();
    assert_eq!(of_p2, vec![c.uuid]);
}

fn deleting_node_detaches_and_deleting_podm_removes(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("p")).unwrap();
    let node = nodes::create(conn, &new_node(podm.uuid, "n")).unwrap();
    let mut attached = device(podm.uuid, "/d/1");
    attached.node_uuid = Some(node.uuid);
    let attached = devices::create(conn, &attached).unwrap();
    let loose = devices::create(conn, &device(podm.uuid, "/d/2")).unwrap();

    nodes::delete(conn, node.uuid).unwrap();
    assert_eq!(devices::get(conn, attached.uuid).unwrap().node_uuid, None);

    // Devices mirror the PODM's inventory and do not block its removal.
    pod_managers::delete_if_unused(conn, podm.uuid).unwrap();
    assert!(devices::find(conn, attached.uuid).unwrap().is_none());
    assert!(devices::find(conn, loose.uuid).unwrap().is_none());
}
