DROP INDEX nodes_compose_step_idx;
ALTER TABLE pod_managers DROP COLUMN owner_instance;
ALTER TABLE nodes DROP COLUMN owner_instance;
DROP TABLE instances;
