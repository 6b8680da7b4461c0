-- Valence instances (servers) and which one drives each node or PODM deletion under way, so a
-- crashed instance's work is resumed by exactly one other (or by itself after a restart).
CREATE TABLE instances (
    id           TEXT PRIMARY KEY NOT NULL,
    hostname     TEXT,
    started_at   TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);
ALTER TABLE nodes ADD COLUMN owner_instance TEXT;
ALTER TABLE pod_managers ADD COLUMN owner_instance TEXT;
-- Finding the work under way reads this index only.
CREATE INDEX nodes_compose_step_idx ON nodes (compose_step) WHERE compose_step IS NOT NULL;
