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
    ];
}
