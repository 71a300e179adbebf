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
    ];
}
