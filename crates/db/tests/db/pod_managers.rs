//! Pod managers: CRUD, uniques, filters, health, foreign key and safe delete.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use uuid::Uuid;
use valence_db::{
    AuthType, ConflictKind, DbError, Driver, Health, Page, PasswordSecret, PodManagerFilter,
    PodManagerUpdate, PodmState, PodmStatus, nodes, pod_managers, truncate_to_micros, utc_now,
};

use crate::harness::{TestDb, backend_tests, new_node, new_podm};

backend_tests!(
    create_get_update_delete,
    debug_never_shows_password,
    name_and_url_are_unique,
    list_filters,
    health_is_recorded,
    timestamps_roundtrip,
    foreign_key_refuses_raw_delete_with_nodes,
    safe_delete_marks_deleting_and_refuses_with_nodes,
    safe_delete_of_unknown_podm_is_not_found,
);

fn create_get_update_delete(t: &TestDb) {
    let conn = &mut t.conn();
    let before = utc_now();
    let created = pod_managers::create(conn, &new_podm("alpha")).unwrap();
    assert_eq!(created.name, "alpha");
    assert_eq!(created.url, "https://alpha.example.test:8443");
    assert_eq!(created.driver, Driver::Rsd);
    assert_eq!(created.auth_type, AuthType::Basic);
    assert_eq!(created.username.as_deref(), Some("admin"));
    assert_eq!(
        created.password_secret.as_ref().unwrap().expose(),
        "pw-of-alpha"
    );
    assert!(created.tls_verify);
    assert_eq!(created.state, PodmState::Active);
    assert_eq!(created.status, PodmStatus::Unknown);
    assert_eq!(created.last_seen_at, None);
    assert_eq!(created.capabilities, serde_json::json!({ "compose": true }));
    assert!(created.created_at >= before);
    assert_eq!(created.created_at, created.updated_at);

    let fetched = pod_managers::get(conn, created.uuid).unwrap();
    assert_eq!(format!("{fetched:?}"), format!("{created:?}"));
    assert_eq!(
        pod_managers::find_by_name(conn, "alpha")
            .unwrap()
            .unwrap()
            .uuid,
        created.uuid
    );
    assert!(pod_managers::find_by_name(conn, "nope").unwrap().is_none());

    let updated = pod_managers::update(
        conn,
        created.uuid,
        &PodManagerUpdate {
            name: Some("alpha-2".to_owned()),
            driver: Some(Driver::Redfish),
            auth_type: Some(AuthType::Session),
            password_secret: Some(Some(PasswordSecret::new("rotated"))),
            tls_verify: Some(false),
            tls_ca_cert: Some(Some("-----BEGIN CERTIFICATE-----\n...".to_owned())),
            description: Some(None),
            state: Some(PodmState::Cordoned),
            capabilities: Some(serde_json::json!({ "compose": false, "quirks": ["x"] })),
            ..PodManagerUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(updated.name, "alpha-2");
    assert_eq!(updated.url, created.url, "fields not in the changeset stay");
    assert_eq!(updated.driver, Driver::Redfish);
    assert_eq!(updated.auth_type, AuthType::Session);
    assert_eq!(
        updated.password_secret.as_ref().unwrap().expose(),
        "rotated"
    );
    assert!(!updated.tls_verify);
    assert!(updated.tls_ca_cert.unwrap().starts_with("-----BEGIN"));
    assert_eq!(updated.description, None);
    assert_eq!(updated.location.as_deref(), Some("rack 1"));
    assert_eq!(updated.state, PodmState::Cordoned);
    assert_eq!(updated.capabilities["quirks"][0], "x");
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);

    let cleared = pod_managers::update(
        conn,
        created.uuid,
        &PodManagerUpdate {
            username: Some(None),
            password_secret: Some(None),
            ..PodManagerUpdate::default()
        },
    )
    .unwrap();
    assert!(cleared.username.is_none() && cleared.password_secret.is_none());

    let active = pod_managers::set_state(conn, created.uuid, PodmState::Active).unwrap();
    assert_eq!(active.state, PodmState::Active);

    pod_managers::delete(conn, created.uuid).unwrap();
    assert!(pod_managers::find(conn, created.uuid).unwrap().is_none());
    let missing = created.uuid.to_string();
    assert!(matches!(
        pod_managers::get(conn, created.uuid),
        Err(DbError::NotFound { entity: "pod manager", id }) if id == missing
    ));
    assert!(matches!(
        pod_managers::delete(conn, created.uuid),
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        pod_managers::update(conn, created.uuid, &PodManagerUpdate::default()),
        Err(DbError::NotFound { .. })
    ));
}

fn debug_never_shows_password(t: &TestDb) {
    let conn = &mut t.conn();
    let created = pod_managers::create(conn, &new_podm("secretive")).unwrap();
    let listed = pod_managers::list(conn, &PodManagerFilter::default(), Page::default()).unwrap();
    for text in [
        format!("{created:?}"),
        format!("{listed:?}"),
        format!("{created:#?}"),
    ] {
        assert!(!text.contains("pw-of-secretive"), "password leaked: {text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

fn name_and_url_are_unique(t: &TestDb) {
    let conn = &mut t.conn();
    let first = pod_managers::create(conn, &new_podm("one")).unwrap();

    let mut same_name = new_podm("one");
    same_name.url = "https://elsewhere.example.test".to_owned();
    match pod_managers::create(conn, &same_name) {
        Err(DbError::Conflict {
            entity: "pod manager",
            kind: ConflictKind::Unique,
            constraint,
            ..
        }) => assert_eq!(constraint.as_deref(), Some("pod_managers_name_key")),
        other => panic!("expected a unique conflict on the name, got {other:?}"),
    }

    let mut same_url = new_podm("two");
    same_url.url = first.url.clone();
    match pod_managers::create(conn, &same_url) {
        Err(DbError::Conflict {
            kind: ConflictKind::Unique,
            constraint,
            ..
        }) => assert_eq!(constraint.as_deref(), Some("pod_managers_url_key")),
        other => panic!("expected a unique conflict on the url, got {other:?}"),
    }

    let second = pod_managers::create(conn, &new_podm("two")).unwrap();
    let rename = pod_managers::update(
        conn,
        second.uuid,
        &PodManagerUpdate {
            name: Some("one".to_owned()),
            ..PodManagerUpdate::default()
        },
    );
    assert!(
        rename
            .as_ref()
            .is_err_and(|error| error.is_conflict(ConflictKind::Unique)),
        "{rename:?}"
    );
    assert_eq!(pod_managers::get(conn, second.uuid).unwrap().name, "two");
}

fn list_filters(t: &TestDb) {
    let conn = &mut t.conn();
    let a = pod_managers::create(conn, &new_podm("a")).unwrap();
    let b = pod_managers::create(conn, &new_podm("b")).unwrap();
    let c = pod_managers::create(conn, &new_podm("c")).unwrap();
    pod_managers::set_state(conn, b.uuid, PodmState::Cordoned).unwrap();
    pod_managers::set_health(
        conn,
        c.uuid,
        &Health {
            status: PodmStatus::Online,
            last_seen_at: Some(utc_now()),
            last_error: None,
        },
    )
    .unwrap();
    // Order is checked by the paging tests; here only membership.
    let uuids = |filter: PodManagerFilter| -> BTreeSet<Uuid> {
        pod_managers::list(&mut t.conn(), &filter, Page::default())
            .unwrap()
            .into_iter()
            .map(|podm| podm.uuid)
            .collect()
    };
    let set = |uuids: &[Uuid]| uuids.iter().copied().collect::<BTreeSet<Uuid>>();
    assert_eq!(
        uuids(PodManagerFilter::default()),
        set(&[a.uuid, b.uuid, c.uuid])
    );
    assert_eq!(
        uuids(PodManagerFilter {
            state: Some(PodmState::Active),
            ..Default::default()
        }),
        set(&[a.uuid, c.uuid])
    );
    assert_eq!(
        uuids(PodManagerFilter {
            state: Some(PodmState::Cordoned),
            ..Default::default()
        }),
        set(&[b.uuid])
    );
    assert_eq!(
        uuids(PodManagerFilter {
            status: Some(PodmStatus::Online),
            ..Default::default()
        }),
        set(&[c.uuid])
    );
    assert_eq!(
        uuids(PodManagerFilter {
            name: Some("a".to_owned()),
            ..Default::default()
        }),
        set(&[a.uuid])
    );
    assert!(
        uuids(PodManagerFilter {
            name: Some("a".to_owned()),
            state: Some(PodmState::Cordoned),
            ..Default::default()
        })
        .is_empty()
    );
}

fn health_is_recorded(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("healthy")).unwrap();
    let seen = utc_now();
    pod_managers::set_health(
        conn,
        podm.uuid,
        &Health {
            status: PodmStatus::Online,
            last_seen_at: Some(seen),
            last_error: None,
        },
    )
    .unwrap();
    let online = pod_managers::get(conn, podm.uuid).unwrap();
    assert_eq!(online.status, PodmStatus::Online);
    assert_eq!(online.last_seen_at, Some(seen));
    assert_eq!(
        online.updated_at, podm.updated_at,
        "health does not touch updated_at"
    );

    pod_managers::set_health(
        conn,
        podm.uuid,
        &Health {
            status: PodmStatus::Offline,
            last_seen_at: None,
            last_error: Some("connect timeout after 5 s".to_owned()),
        },
    )
    .unwrap();
    let offline = pod_managers::get(conn, podm.uuid).unwrap();
    assert_eq!(offline.status, PodmStatus::Offline);
    assert_eq!(
        offline.last_seen_at,
        Some(seen),
        "a failed check keeps last_seen_at"
    );
    assert_eq!(
        offline.last_error.as_deref(),
        Some("connect timeout after 5 s")
    );

    pod_managers::set_health(
        conn,
        podm.uuid,
        &Health {
            status: PodmStatus::Online,
            last_seen_at: Some(seen + Duration::seconds(30)),
            last_error: None,
        },
    )
    .unwrap();
    let back = pod_managers::get(conn, podm.uuid).unwrap();
    assert_eq!(back.last_error, None);
    assert_eq!(back.last_seen_at, Some(seen + Duration::seconds(30)));

    assert!(matches!(
        pod_managers::set_health(
            conn,
            Uuid::new_v4(),
            &Health {
                status: PodmStatus::Online,
                last_seen_at: None,
                last_error: None
            }
        ),
        Err(DbError::NotFound { .. })
    ));
}

fn timestamps_roundtrip(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("clock")).unwrap();
    assert_eq!(podm.created_at, truncate_to_micros(podm.created_at));
    for seen in [
        NaiveDate::from_ymd_opt(1999, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 999_999_999)
            .unwrap(),
        NaiveDate::from_ymd_opt(2038, 1, 19)
            .unwrap()
            .and_hms_micro_opt(3, 14, 8, 1)
            .unwrap(),
        NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    ] {
        pod_managers::set_health(
            conn,
            podm.uuid,
            &Health {
                status: PodmStatus::Online,
                last_seen_at: Some(seen),
                last_error: None,
            },
        )
        .unwrap();
        let stored = pod_managers::get(conn, podm.uuid)
            .unwrap()
            .last_seen_at
            .unwrap();
        assert_eq!(stored, truncate_to_micros(seen), "{seen}");
    }
}

fn foreign_key_refuses_raw_delete_with_nodes(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("busy")).unwrap();
    let node = nodes::create(conn, &new_node(podm.uuid, "n1")).unwrap();
    match pod_managers::delete(conn, podm.uuid) {
        Err(DbError::Conflict {
            kind: ConflictKind::ForeignKey,
            constraint,
            ..
        }) => {
            if t.backend == valence_db::Backend::Postgres {
                assert_eq!(constraint.as_deref(), Some("nodes_podm_uuid_fkey"));
            }
        }
        other => panic!("expected a foreign key conflict, got {other:?}"),
    }
    assert!(pod_managers::find(conn, podm.uuid).unwrap().is_some());

    let orphan = nodes::create(conn, &new_node(Uuid::new_v4(), "orphan"));
    assert!(
        orphan
            .as_ref()
            .is_err_and(|error| error.is_conflict(ConflictKind::ForeignKey)),
        "{orphan:?}"
    );

    nodes::delete(conn, node.uuid).unwrap();
    pod_managers::delete(conn, podm.uuid).unwrap();
}

fn safe_delete_marks_deleting_and_refuses_with_nodes(t: &TestDb) {
    let conn = &mut t.conn();
    let podm = pod_managers::create(conn, &new_podm("leaving")).unwrap();
    let n1 = nodes::create(conn, &new_node(podm.uuid, "n1")).unwrap();
    let mut adopted = new_node(podm.uuid, "n2");
    adopted.managed_by = valence_db::ManagedBy::User;
    let n2 = nodes::create(conn, &adopted).unwrap();

    match pod_managers::delete_if_unused(conn, podm.uuid) {
        Err(DbError::PodmHasNodes { podm_uuid, count }) => {
            assert_eq!(podm_uuid, podm.uuid);
            assert_eq!(count, 2, "every node blocks the delete, adopted ones too");
        }
        other => panic!("expected PodmHasNodes, got {other:?}"),
    }
    let marked = pod_managers::get(conn, podm.uuid).unwrap();
    assert_eq!(
        marked.state,
        PodmState::Deleting,
        "the mark stays after the refusal"
    );

    nodes::delete(conn, n1.uuid).unwrap();
    assert!(matches!(
        pod_managers::delete_if_unused(conn, podm.uuid),
        Err(DbError::PodmHasNodes { count: 1, .. })
    ));
    nodes::delete(conn, n2.uuid).unwrap();
    pod_managers::delete_if_unused(conn, podm.uuid).unwrap();
    assert!(pod_managers::find(conn, podm.uuid).unwrap().is_none());

    let unused = pod_managers::create(conn, &new_podm("unused")).unwrap();
    pod_managers::delete_if_unused(conn, unused.uuid).unwrap();
    assert!(pod_managers::find(conn, unused.uuid).unwrap().is_none());
}

fn safe_delete_of_unknown_podm_is_not_found(t: &TestDb) {
    let conn = &mut t.conn();
    assert!(matches!(
        pod_managers::delete_if_unused(conn, Uuid::new_v4()),
        Err(DbError::NotFound {
            entity: "pod manager",
            ..
        })
    ));
}
