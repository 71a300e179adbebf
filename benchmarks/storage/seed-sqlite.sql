-- Seeds __KEYS__ keys (one version each) straight into a migrated, empty Keel SQLite database, spread over 1,000 services;
-- search_key is the key folded to lower case, as the server stores it.
-- Run by run.sh with the server stopped; __KEYS__ is replaced with the key count.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < __KEYS__ - 1)
INSERT INTO configs (service_name, environment, config_key, version, value, value_type, is_encrypted, is_deleted,
                     created_at, updated_at, updated_by, revision, search_key)
SELECT 'svc-' || (i % 1000), 'prod', 'key-' || i, 1, 'value-' || i, 'string', 0, 0,
       1767225600000000, 1767225600000000, 'bench', i + 1, 'key-' || i
FROM s;
INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, created_at, created_by, revision)
SELECT id, 1, value, 'string', 0, 'create', created_at, 'bench', revision FROM configs;
UPDATE keel_revision SET revision = __KEYS__, compacted_revision = __KEYS__ WHERE id = 1;
COMMIT;
ANALYZE;
