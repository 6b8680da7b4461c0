//! Flavors: CRUD, unique name, filter.

use valence_db::{ConflictKind, DbError, FlavorFilter, FlavorUpdate, NewFlavor, Page, flavors};

use crate::harness::{TestDb, backend_tests};

backend_tests!(create_get_update_delete, name_is_unique);

fn flavor(name: &str) -> NewFlavor {
    NewFlavor {
        name: name.to_owned(),
        description: Some(format!("{name} nodes")),
        properties: serde_json::json!({ "memory": { "capacity_mib": 8192 } }),
    }
}

fn create_get_update_delete(t: &TestDb) {
    let conn = &mut t.conn();
    let small = flavors::create(conn, &flavor("small")).unwrap();
    let large = flavors::create(conn, &flavor("large")).unwrap();
    assert_eq!(small.properties["memory"]["capacity_mib"], 8192);
    assert_eq!(flavors::get(conn, small.uuid).unwrap(), small);

    let by_name = flavors::list(
        conn,
        &FlavorFilter {
            name: Some("large".to_owned()),
        },
        Page::default(),
    )
    .unwrap();
    assert_eq!(by_name, vec![large.clone()]);
    assert_eq!(
        flavors::list(conn, &FlavorFilter::default(), Page::default())
            .unwrap()
            .len(),
        2
    );

    let updated = flavors::update(
        conn,
        small.uuid,
        &FlavorUpdate {
            name: Some("tiny".to_owned()),
            description: Some(None),
            properties: Some(serde_json::json!({})),
        },
    )
    .unwrap();
    assert_eq!(updated.name, "tiny");
    assert_eq!(updated.description, None);
    assert_eq!(updated.properties, serde_json::json!({}));
    assert!(updated.updated_at >= small.updated_at);

    flavors::delete(conn, small.uuid).unwrap();
    assert!(flavors::find(conn, small.uuid).unwrap().is_none());
    assert!(matches!(
        flavors::get(conn, small.uuid),
        Err(DbError::NotFound {
            entity: "flavor",
            ..
        })
    ));
    assert!(matches!(
        flavors::delete(conn, small.uuid),
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        flavors::update(conn, small.uuid, &FlavorUpdate::default()),
        Err(DbError::NotFound { .. })
    ));
}

fn name_is_unique(t: &TestDb) {
    let conn = &mut t.conn();
    flavors::create(conn, &flavor("gold")).unwrap();
    match flavors::create(conn, &flavor("gold")) {
        Err(DbError::Conflict {
            entity: "flavor",
            kind: ConflictKind::Unique,
            constraint,
            ..
        }) => assert_eq!(constraint.as_deref(), Some("flavors_name_key")),
        other => panic!("expected a unique conflict, got {other:?}"),
    }
    let silver = flavors::create(conn, &flavor("silver")).unwrap();
    let rename = flavors::update(
        conn,
        silver.uuid,
        &FlavorUpdate {
            name: Some("gold".to_owned()),
            ..FlavorUpdate::default()
        },
    );
    assert!(rename.is_err_and(|error| error.is_conflict(ConflictKind::Unique)));
}
