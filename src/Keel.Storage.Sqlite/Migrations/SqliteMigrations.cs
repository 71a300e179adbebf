// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Storage.Sqlite.Migrations;

/// <summary>
/// The schema, as an append-only list of migrations. A released migration never changes; a new one is added at the end.
/// </summary>
static class SqliteMigrations
{
    public static IReadOnlyList<(int Version, string Name, string Sql)> All { get; } =
    [
        (1, "configs and versions", """
            CREATE TABLE keel_revision (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                revision INTEGER NOT NULL
            );
            INSERT INTO keel_revision (id, revision) VALUES (1, 0);

            -- One row per key ever written; a deleted key keeps its row so that its version numbers continue.
            CREATE TABLE configs (
                id INTEGER PRIMARY KEY,
                service_name TEXT NOT NULL,
                environment TEXT NOT NULL,
                config_key TEXT NOT NULL,
                version INTEGER NOT NULL,
                value TEXT,
                value_type TEXT,
                is_encrypted INTEGER NOT NULL DEFAULT 0,
                is_deleted INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                updated_by TEXT NOT NULL,
                revision INTEGER NOT NULL,
                UNIQUE (service_name, environment, config_key)
            );
            CREATE INDEX ix_configs_service_environment_revision ON configs (service_name, environment, revision);

            -- Immutable history: one row per version, tombstones included.
            CREATE TABLE config_versions (
                config_id INTEGER NOT NULL REFERENCES configs (id),
                version INTEGER NOT NULL,
                value TEXT,
                value_type TEXT,
                is_encrypted INTEGER NOT NULL DEFAULT 0,
                change_type TEXT NOT NULL,
                change_description TEXT,
                created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL,
                revision INTEGER NOT NULL,
                PRIMARY KEY (config_id, version)
            );
            """),
        (2, "encryption keys, tokens and audit trail", """
            -- Data keys, each wrapped by the key encryption key named in kek_id; at most one is active.
            CREATE TABLE encryption_keys (
                id INTEGER PRIMARY KEY,
                wrapped_key BLOB NOT NULL,
                kek_id TEXT NOT NULL,
                is_active INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            );

            -- The data key of an encrypted value; rotation finds what is left to re-encrypt through these partial indexes.
            ALTER TABLE configs ADD COLUMN key_id INTEGER;
            ALTER TABLE config_versions ADD COLUMN key_id INTEGER;
            CREATE INDEX ix_configs_key_id ON configs (key_id) WHERE key_id IS NOT NULL;
            CREATE INDEX ix_config_versions_key_id ON config_versions (key_id) WHERE key_id IS NOT NULL;

            -- Tokens by the SHA-256 of their secret; the secret itself is never stored.
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                permissions TEXT NOT NULL,
                scopes TEXT NOT NULL,
                service_name TEXT,
                environment TEXT,
                secret_hash BLOB NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL,
                expires_at INTEGER,
                revoked_at INTEGER
            );

            -- Append-only; written in the transaction of the mutation it records.
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                occurred_at INTEGER NOT NULL,
                actor_token_id TEXT,
                actor_name TEXT NOT NULL,
                client_address TEXT,
                action TEXT NOT NULL,
                service_name TEXT,
                environment TEXT,
                target TEXT NOT NULL,
                from_version INTEGER,
                to_version INTEGER,
                revision INTEGER,
                request_id TEXT
            );
            CREATE INDEX ix_audit_log_scope ON audit_log (service_name, environment, id);
            CREATE INDEX ix_audit_log_actor_name ON audit_log (actor_name, id);
            CREATE INDEX ix_audit_log_actor_token ON audit_log (actor_token_id, id);
            CREATE INDEX ix_audit_log_occurred_at ON audit_log (occurred_at);
            """),
        (3, "change feed and webhook outbox", """
            -- Changes at or before this revision have been compacted away from the feed.
            ALTER TABLE keel_revision ADD COLUMN compacted_revision INTEGER NOT NULL DEFAULT 0;

            -- The change feed: one row per change, in revision order (seq orders the changes of one revision).
            CREATE TABLE changes (
                revision INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                service_name TEXT NOT NULL,
                environment TEXT NOT NULL,
                config_key TEXT NOT NULL,
                version INTEGER NOT NULL,
                change_type TEXT NOT NULL,
                changed_at INTEGER NOT NULL,
                PRIMARY KEY (revision, seq)
            ) WITHOUT ROWID;
            CREATE INDEX ix_changes_scope ON changes (service_name, environment, revision);
            CREATE INDEX ix_changes_changed_at ON changes (changed_at);

            -- A database from before the feed starts it with its whole history.
            INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
            SELECT v.revision, 0, c.service_name, c.environment, c.config_key, v.version, v.change_type, v.created_at
            FROM config_versions v JOIN configs c ON c.id = v.config_id;

            -- The signing secret is a key ring envelope under data key key_id.
            CREATE TABLE webhook_subscriptions (
                id TEXT PRIMARY KEY,
                service_name TEXT NOT NULL,
                environment TEXT NOT NULL,
                config_keys TEXT NOT NULL,
                webhook_url TEXT NOT NULL,
                secret TEXT NOT NULL,
                key_id INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL,
                last_notified_at INTEGER
            );
            CREATE INDEX ix_webhook_subscriptions_scope ON webhook_subscriptions (service_name, environment);

            -- The outbox: written in the transaction of the change it delivers.
            CREATE TABLE webhook_deliveries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                delivery_id TEXT NOT NULL UNIQUE,
                subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
                revision INTEGER NOT NULL,
                service_name TEXT NOT NULL,
                environment TEXT NOT NULL,
                config_key TEXT NOT NULL,
                version INTEGER NOT NULL,
                change_type TEXT NOT NULL,
                changed_at INTEGER NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER,
                last_attempt_at INTEGER,
                last_error TEXT,
                last_status_code INTEGER,
                created_at INTEGER NOT NULL,
                delivered_at INTEGER
            );
            CREATE INDEX ix_webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
            CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (subscription_id, id) WHERE status = 'pending';
            CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
            CREATE INDEX ix_webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';
            """),
        (4, "webhook delivery leases", """
            -- A taken delivery is leased to its taker until this time; nobody else takes it before then.
            ALTER TABLE webhook_deliveries ADD COLUMN lease_expires_at INTEGER;
            """),
        (5, "key search and schemas", """
            -- The key folded to lower case (by .NET's invariant rules, through keel_fold), for case-insensitive search; ordered
            -- search pages read the partial index in order and stop at the page's end.
            ALTER TABLE configs ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
            UPDATE configs SET search_key = keel_fold(config_key);
            CREATE INDEX ix_configs_search ON configs (search_key, service_name, environment, config_key) WHERE is_deleted = 0;

            -- One row per schema ever put; a deleted schema keeps its row so that its versions continue.
            CREATE TABLE config_schemas (
                service_name TEXT NOT NULL,
                key_pattern TEXT NOT NULL,
                schema TEXT,
                version INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                updated_by TEXT NOT NULL,
                PRIMARY KEY (service_name, key_pattern)
            );

            -- Every version of every schema; a delete is a version without a schema.
            CREATE TABLE config_schema_versions (
                service_name TEXT NOT NULL,
                key_pattern TEXT NOT NULL,
                version INTEGER NOT NULL,
                schema TEXT,
                created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (service_name, key_pattern, version)
            );
            """),
        (6, "key search within a service", """
            -- A search within one service reads that service's range of this index in search order; ix_configs_search alone
            -- would make it walk every service's keys in the prefix's range, or sort all of the service's keys.
            CREATE INDEX ix_configs_service_search ON configs (service_name, search_key, environment, config_key) WHERE is_deleted = 0;
            """),
        (7, "tokens bound to client certificates", """
            -- The SHA-256 (hex) of the client certificate a token is bound to; such a token authenticates only over a
            -- connection that presents it.
            ALTER TABLE tokens ADD COLUMN client_certificate_sha256 TEXT;
            """),
        (8, "indexed substring search", """
            -- Every trigram of every search key, so that a substring search (q=) reads the rows that hold its text rather
            -- than walk every key. The keys stay in configs alone (external content); detail=none keeps no positions, and
            -- GLOB checks each candidate against its key. The triggers keep it in step within each write's transaction.
            CREATE VIRTUAL TABLE configs_search USING fts5 (
                search_key, content = 'configs', content_rowid = 'id', tokenize = 'trigram case_sensitive 1', detail = none);
            INSERT INTO configs_search (configs_search) VALUES ('rebuild');
            CREATE TRIGGER configs_search_insert AFTER INSERT ON configs BEGIN
                INSERT INTO configs_search (rowid, search_key) VALUES (new.id, new.search_key);
            END;
            CREATE TRIGGER configs_search_update AFTER UPDATE OF search_key ON configs BEGIN
                INSERT INTO configs_search (configs_search, rowid, search_key) VALUES ('delete', old.id, old.search_key);
                INSERT INTO configs_search (rowid, search_key) VALUES (new.id, new.search_key);
            END;
            CREATE TRIGGER configs_search_delete AFTER DELETE ON configs BEGIN
                INSERT INTO configs_search (configs_search, rowid, search_key) VALUES ('delete', old.id, old.search_key);
            END;
            """),
    ];
}
