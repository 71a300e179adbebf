-- Seeds __KEYS__ keys straight into a migrated, empty Keel PostgreSQL database, spread over
-- 1,000 services, one version each; search_key is the key folded to lower case, as the server
-- stores it. Run by run.sh with the server stopped.
BEGIN;
INSERT INTO configs (service_name, environment, config_key, version, value, value_type, is_encrypted, is_deleted,
                     created_at, updated_at, updated_by, revision, search_key)
SELECT 'svc-' || (i % 1000), 'prod', 'key-' || i, 1, 'value-' || i, 'string', false, false,
       '2026-01-01Z', '2026-01-01Z', 'bench', i + 1, 'key-' || i
FROM generate_series(0, __KEYS__ - 1) AS i;
INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, created_at, created_by, revision)
SELECT id, 1, value, 'string', false, 'create', created_at, 'bench', revision FROM configs;
UPDATE keel_revision SET revision = __KEYS__ WHERE id = 1;
UPDATE keel_feed SET compacted_revision = __KEYS__ WHERE id = 1;
COMMIT;
VACUUM ANALYZE configs;
VACUUM ANALYZE config_versions;
