// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Storage.Postgres.Migrations;

/// <summary>
/// The schema, as an append-only list of migrations. A released migration never changes; a new one is added at the end. They
/// run in one transaction under an advisory lock, so nodes that start together migrate once.
/// </summary>
static class PostgresMigrations
{
    /// <summary>The advisory lock key that serializes migrations: "keel" in ASCII.</summary>
    public const long LockKey = 0x6B65656C;

    public static IReadOnlyList<(int Version, string Name, string Sql)> All { get; } =
    [
        (1, "configs, history, tokens, audit trail, change feed and webhook outbox", """
            -- The store's revision: every config change takes the next one while holding this row's lock until it commits, so
            -- revisions commit in order (see PostgresConfigStore).
            CREATE TABLE keel_revision (
                id integer PRIMARY KEY CHECK (id = 1),
                revision bigint NOT NULL
            );
            INSERT INTO keel_revision (id, revision) VALUES (1, 0);

            -- Kept apart from keel_revision so that compaction never holds up a writer.
            CREATE TABLE keel_feed (
                id integer PRIMARY KEY CHECK (id = 1),
                compacted_revision bigint NOT NULL
            );
            INSERT INTO keel_feed (id, compacted_revision) VALUES (1, 0);

            -- One row per key ever written; a deleted key keeps its row so that its version numbers continue. Names compare
            -- and sort by code point (collation "C").
            CREATE TABLE configs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                service_name text COLLATE "C" NOT NULL,
                environment text COLLATE "C" NOT NULL,
                config_key text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                value text,
                value_type text,
                is_encrypted boolean NOT NULL DEFAULT false,
                is_deleted boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                updated_by text NOT NULL,
                revision bigint NOT NULL,
                key_id integer,
                UNIQUE (service_name, environment, config_key)
            );
            CREATE INDEX ix_configs_service_environment_revision ON configs (service_name, environment, revision);
            CREATE INDEX ix_configs_key_id ON configs (key_id) WHERE key_id IS NOT NULL;

            -- Immutable history: one row per version, tombstones included.
            CREATE TABLE config_versions (
                config_id bigint NOT NULL REFERENCES configs (id),
                version bigint NOT NULL,
                value text,
                value_type text,
                is_encrypted boolean NOT NULL DEFAULT false,
                change_type text NOT NULL,
                change_description text,
                created_at timestamptz NOT NULL,
                created_by text NOT NULL,
                revision bigint NOT NULL,
                key_id integer,
                PRIMARY KEY (config_id, version)
            );
            CREATE INDEX ix_config_versions_key_id ON config_versions (key_id) WHERE key_id IS NOT NULL;

            -- Data keys, each wrapped by the key encryption key named in kek_id; at most one is active.
            CREATE TABLE encryption_keys (
                id integer PRIMARY KEY,
                wrapped_key bytea NOT NULL,
                kek_id text NOT NULL,
                is_active boolean NOT NULL,
                created_at timestamptz NOT NULL
            );
            CREATE UNIQUE INDEX ux_encryption_keys_active ON encryption_keys (is_active) WHERE is_active;

            -- Tokens by the SHA-256 of their secret; the secret itself is never stored.
            CREATE TABLE tokens (
                id text PRIMARY KEY,
                name text NOT NULL,
                kind text NOT NULL,
                permissions text NOT NULL,
                scopes text NOT NULL,
                service_name text,
                environment text,
                secret_hash bytea NOT NULL UNIQUE,
                created_at timestamptz NOT NULL,
                created_by text NOT NULL,
                expires_at timestamptz,
                revoked_at timestamptz
            );

            -- Append-only; written in the transaction of the mutation it records.
            CREATE TABLE audit_log (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                occurred_at timestamptz NOT NULL,
                actor_token_id text,
                actor_name text NOT NULL,
                client_address text,
                action text NOT NULL,
                service_name text COLLATE "C",
                environment text COLLATE "C",
                target text NOT NULL,
                from_version bigint,
                to_version bigint,
                revision bigint,
                request_id text
            );
            CREATE INDEX ix_audit_log_scope ON audit_log (service_name, environment, id);
            CREATE INDEX ix_audit_log_actor_name ON audit_log (actor_name, id);
            CREATE INDEX ix_audit_log_actor_token ON audit_log (actor_token_id, id);
            CREATE INDEX ix_audit_log_occurred_at ON audit_log (occurred_at);

            -- The change feed: one row per change, in revision order (seq orders the changes of one revision).
            CREATE TABLE changes (
                revision bigint NOT NULL,
                seq integer NOT NULL,
                service_name text COLLATE "C" NOT NULL,
                environment text COLLATE "C" NOT NULL,
                config_key text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                change_type text NOT NULL,
                changed_at timestamptz NOT NULL,
                PRIMARY KEY (revision, seq)
            );
            CREATE INDEX ix_changes_scope ON changes (service_name, environment, revision);
            CREATE INDEX ix_changes_changed_at ON changes (changed_at);

            -- The signing secret is a key ring envelope under data key key_id.
            CREATE TABLE webhook_subscriptions (
                id text PRIMARY KEY,
                service_name text COLLATE "C" NOT NULL,
                environment text COLLATE "C" NOT NULL,
                config_keys text[] NOT NULL,
                webhook_url text NOT NULL,
                secret text NOT NULL,
                key_id integer NOT NULL,
                created_at timestamptz NOT NULL,
                created_by text NOT NULL,
                last_notified_at timestamptz
            );
            CREATE INDEX ix_webhook_subscriptions_scope ON webhook_subscriptions (service_name, environment);

            -- The outbox: written in the transaction of the change it delivers. A node takes a delivery by leasing it.
            CREATE TABLE webhook_deliveries (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                delivery_id text NOT NULL UNIQUE,
                subscription_id text NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
                revision bigint NOT NULL,
                service_name text COLLATE "C" NOT NULL,
                environment text COLLATE "C" NOT NULL,
                config_key text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                change_type text NOT NULL,
                changed_at timestamptz NOT NULL,
                status text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz,
                lease_expires_at timestamptz,
                last_attempt_at timestamptz,
                last_error text,
                last_status_code integer,
                created_at timestamptz NOT NULL,
                delivered_at timestamptz
            );
            CREATE INDEX ix_webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
            CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (subscription_id, id) WHERE status = 'pending';
            CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
            CREATE INDEX ix_webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';
            """),
        (2, "key search and schemas", """
            -- The key folded to lower case, for case-insensitive search; writers fill it by .NET's invariant rules, and rows from
            -- before this migration by PostgreSQL's lower(). Ordered search pages read the partial index in order.
            ALTER TABLE configs ADD COLUMN search_key text COLLATE "C" NOT NULL DEFAULT '';
            UPDATE configs SET search_key = lower(config_key);
            CREATE INDEX ix_configs_search ON configs (search_key, service_name, environment, config_key) WHERE NOT is_deleted;

            -- One row per schema ever put; a deleted schema keeps its row so that its versions continue.
            CREATE TABLE config_schemas (
                service_name text COLLATE "C" NOT NULL,
                key_pattern text COLLATE "C" NOT NULL,
                schema text,
                version bigint NOT NULL,
                updated_at timestamptz NOT NULL,
                updated_by text NOT NULL,
                PRIMARY KEY (service_name, key_pattern)
            );

            -- Every version of every schema; a delete is a version without a schema.
            CREATE TABLE config_schema_versions (
                service_name text COLLATE "C" NOT NULL,
                key_pattern text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                schema text,
                created_at timestamptz NOT NULL,
                created_by text NOT NULL,
                PRIMARY KEY (service_name, key_pattern, version)
            );
            """),
        (3, "key search within a service", """
            -- A search within one service reads that service's range of this index in search order; ix_configs_search alone
            -- would make it walk every service's keys in the prefix's range, or sort all of the service's keys.
            CREATE INDEX ix_configs_service_search ON configs (service_name, search_key, environment, config_key) WHERE NOT is_deleted;
            """),
        (4, "tokens bound to client certificates", """
            -- The SHA-256 (hex) of the client certificate a token is bound to; such a token authenticates only over a
            -- connection that presents it.
            ALTER TABLE tokens ADD COLUMN client_certificate_sha256 text;
            """),
        (5, "indexed substring search", """
            -- The trigrams of every live search key, so that a substring search (q=, a LIKE) reads the rows that hold its text
            -- rather than walk every key; a text more keys hold than the search reads from it walks ix_configs_search in
            -- order instead. pg_trgm is a trusted extension: the database's owner may create it.
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX ix_configs_search_trigrams ON configs USING gin (search_key gin_trgm_ops) WHERE NOT is_deleted;
            """),
    ];
}
