//! Hand-written diesel schema, restricted to column types that work through `MultiConnection`
//! on both SQLite and PostgreSQL: uuids and JSON are `Text`, times are `Timestamp` (UTC).

diesel::table! {
    pod_managers (uuid) {
        uuid -> Text,
        name -> Text,
        url -> Text,
        driver -> Text,
        auth_type -> Text,
        username -> Nullable<Text>,
        password_secret -> Nullable<Text>,
        tls_verify -> Bool,
        tls_ca_cert -> Nullable<Text>,
        description -> Nullable<Text>,
        location -> Nullable<Text>,
        state -> Text,
        status -> Text,
        last_seen_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        capabilities -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        owner_instance -> Nullable<Text>,
    }
}

diesel::table! {
    nodes (uuid) {
        uuid -> Text,
        name -> Text,
        description -> Nullable<Text>,
        podm_uuid -> Text,
        node_index -> Nullable<Text>,
        resource_uri -> Nullable<Text>,
        system_uri -> Nullable<Text>,
        state -> Text,
        compose_step -> Nullable<Text>,
        flavor_uuid -> Nullable<Text>,
        requirements -> Text,
        managed_by -> Text,
        idempotency_key -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        owner_instance -> Nullable<Text>,
    }
}

diesel::table! {
    flavors (uuid) {
        uuid -> Text,
        name -> Text,
        description -> Nullable<Text>,
        properties -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    devices (uuid) {
        uuid -> Text,
        podm_uuid -> Text,
        node_uuid -> Nullable<Text>,
        device_type -> Text,
        state -> Text,
        resource_uri -> Text,
        properties -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instances (id) {
        id -> Text,
        hostname -> Nullable<Text>,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
    }
}

diesel::joinable!(nodes -> pod_managers (podm_uuid));
diesel::joinable!(devices -> pod_managers (podm_uuid));
diesel::joinable!(devices -> nodes (node_uuid));

diesel::allow_tables_to_appear_in_same_query!(pod_managers, nodes, flavors, devices, instances);
