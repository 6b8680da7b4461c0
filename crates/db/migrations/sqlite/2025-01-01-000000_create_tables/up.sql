-- Valence schema, SQLite flavour. Keep in step with ../../postgres (same version names).
-- Times are diesel `Timestamp` (UTC, text on SQLite); uuids and JSON documents are text.

CREATE TABLE pod_managers (
    uuid            TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    driver          TEXT NOT NULL CHECK (driver IN ('rsd', 'redfish')),
    auth_type       TEXT NOT NULL CHECK (auth_type IN ('basic', 'session')),
    username        TEXT,
    -- Opaque: plain text today, ciphertext once encryption at rest is configured.
    password_secret TEXT,
    tls_verify      BOOLEAN NOT NULL DEFAULT 1,
    tls_ca_cert     TEXT,
    description     TEXT,
    location        TEXT,
    state           TEXT NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active', 'cordoned', 'deleting')),
    status          TEXT NOT NULL DEFAULT 'Unknown'
                    CHECK (status IN ('Online', 'Offline', 'Unknown')),
    last_seen_at    TIMESTAMP,
    last_error      TEXT,
    capabilities    TEXT NOT NULL DEFAULT '{}',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    CONSTRAINT pod_managers_name_key UNIQUE (name),
    CONSTRAINT pod_managers_url_key UNIQUE (url)
);
CREATE INDEX pod_managers_created_at_uuid_idx ON pod_managers (created_at, uuid);

CREATE TABLE nodes (
    uuid            TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    podm_uuid       TEXT NOT NULL,
    node_index      TEXT,
    resource_uri    TEXT,
    system_uri      TEXT,
    state           TEXT NOT NULL
                    CHECK (state IN ('allocating', 'assembling', 'ready', 'failed', 'deleting')),
    compose_step    TEXT,
    flavor_uuid     TEXT,
    requirements    TEXT NOT NULL DEFAULT '{}',
    managed_by      TEXT NOT NULL CHECK (managed_by IN ('valence', 'user')),
    idempotency_key TEXT,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    CONSTRAINT nodes_podm_uuid_fkey FOREIGN KEY (podm_uuid)
        REFERENCES pod_managers (uuid) ON DELETE RESTRICT ON UPDATE RESTRICT,
    CONSTRAINT nodes_podm_uuid_resource_uri_key UNIQUE (podm_uuid, resource_uri),
    CONSTRAINT nodes_idempotency_key_key UNIQUE (idempotency_key)
);
-- Counting the nodes Valence made on a PODM reads this index only.
CREATE INDEX nodes_podm_uuid_managed_by_idx ON nodes (podm_uuid, managed_by);
-- Listing (and paging through) the nodes of one PODM in list order.
CREATE INDEX nodes_podm_uuid_created_at_uuid_idx ON nodes (podm_uuid, created_at, uuid);
CREATE INDEX nodes_created_at_uuid_idx ON nodes (created_at, uuid);

CREATE TABLE flavors (
    uuid            TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    properties      TEXT NOT NULL DEFAULT '{}',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    CONSTRAINT flavors_name_key UNIQUE (name)
);
CREATE INDEX flavors_created_at_uuid_idx ON flavors (created_at, uuid);

CREATE TABLE devices (
    uuid            TEXT PRIMARY KEY NOT NULL,
    podm_uuid       TEXT NOT NULL,
    node_uuid       TEXT,
    device_type     TEXT NOT NULL,
    state           TEXT NOT NULL,
    resource_uri    TEXT NOT NULL,
    properties      TEXT NOT NULL DEFAULT '{}',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    -- Devices mirror a PODM's inventory: they go with their PODM.
    CONSTRAINT devices_podm_uuid_fkey FOREIGN KEY (podm_uuid)
        REFERENCES pod_managers (uuid) ON DELETE CASCADE ON UPDATE RESTRICT,
    -- A device outlives the node it was attached to.
    CONSTRAINT devices_node_uuid_fkey FOREIGN KEY (node_uuid)
        REFERENCES nodes (uuid) ON DELETE SET NULL ON UPDATE RESTRICT,
    CONSTRAINT devices_podm_uuid_resource_uri_key UNIQUE (podm_uuid, resource_uri)
);
CREATE INDEX devices_podm_uuid_created_at_uuid_idx ON devices (podm_uuid, created_at, uuid);
CREATE INDEX devices_created_at_uuid_idx ON devices (created_at, uuid);
CREATE INDEX devices_node_uuid_idx ON devices (node_uuid);
