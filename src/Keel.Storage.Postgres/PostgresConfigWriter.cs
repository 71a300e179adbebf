// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Storage.Relational.Audit;
using Keel.Storage.Relational.Configs;
using Keel.Storage.Relational.Webhooks;
using Npgsql;

namespace Keel.Storage.Postgres;

/// <summary>
/// PostgreSQL's write engine, for any number of nodes on one database.
/// </summary>
/// <remarks>
/// <para>
/// Revisions commit in order. A change takes its revision with <c>UPDATE keel_revision ... RETURNING</c>, whose row lock it holds
/// until it commits; the next change cannot take a revision before then. So whenever revision N is visible, every revision below
/// N is too, and a reader that has seen N never meets a lower one later. The lock is taken in the last round trip before the
/// commit, so it is held for one round trip and the commit's flush: that bounds write throughput at one change per commit latency
/// across the cluster, the price of a feed that needs no gap detection.
/// </para>
/// <para>
/// A change runs in two round trips and a commit. The first locks the key's row (inserting a placeholder first, so that two
/// creators of one key queue on it instead of failing) and reads what the change needs; the second takes the revision and writes
/// the row, its version, audit record, feed row, outbox deliveries and a <c>NOTIFY</c>, which PostgreSQL delivers to every
/// node's listener when, and only if, the change commits.
/// </para>
/// </remarks>
sealed partial class PostgresConfigWriter(PostgresDatabase db) : IConfigWriter
{
    /// <summary>The revision the current transaction took, as SQL: valid after the batch's first statement took it.</summary>
    const string TakenRevision = "(SELECT revision FROM keel_revision WHERE id = 1)";

    public Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync(
            request.Id, request, targetVersion: null, static (request, current, _, _) => ChangePlan.ForSet(request, current.LiveVersion, current.IsLiveEncrypted),
            cancellationToken);
    }

    public Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync(
            request.Id, request, targetVersion: null, static (request, current, _, _) => ChangePlan.ForDelete(request, current.LiveVersion), cancellationToken);
    }

    public Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync(
            request.Id,
            request,
            request.TargetVersion,
            static (request, current, target, ring) =>
                ChangePlan.ForRollback(request, current.Exists, current.LiveVersion, current.IsLiveEncrypted, target, ring),
            cancellationToken);
    }

    /// <summary>Runs one change to one key: locks its row, lets <paramref name="plan"/> decide, then records the change.</summary>
    Task<ConfigChange> ChangeAsync<TRequest>(
        ConfigId id,
        TRequest request,
        long? targetVersion,
        Func<TRequest, PostgresLockedRow, ChangePlan.Target?, KeyRing, ChangePlan> plan,
        CancellationToken cancellationToken) =>
        db.TransactAsync((id, request, targetVersion, plan), static async (write, state, cancellationToken) =>
        {
            var (current, target, subscriptions) = await LockKeyAsync(write, state.id, state.targetVersion, cancellationToken).ConfigureAwait(false);
            var p = state.plan(state.request, current, target, write.Ring);
            var version = current.Version + 1;
            var isEncrypted = p.Encrypt && p.Value is not null;
            if (isEncrypted)
            {
                await write.LockActiveKeyAsync(cancellationToken).ConfigureAwait(false);
                if (current is { IsLiveEncrypted: false, Exists: true })
                {
                    await EncryptHistoryAsync(write, state.id, current.RowId, cancellationToken).ConfigureAwait(false);
                }
            }

            // A key that comes back after a delete (by a write or a rollback) starts a new life.
            var createdAt = current.LiveVersion is null ? write.Now : current.CreatedAt;
            var stored = isEncrypted ? write.Ring.Encrypt(state.id, version, p.Value!) : p.Value;
            int? keyId = isEncrypted ? write.Ring.ActiveKeyId : null;
            var valueType = p.ValueType?.ToWireName();
            var changeType = p.ChangeType.ToWireName();
            var id = state.id;

            using var batch = write.Batch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE keel_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision;"));
            batch.BatchCommands.Add(Statement(
                $"""
                UPDATE configs SET version = @version, value = @value, value_type = @value_type, is_encrypted = @is_encrypted,
                                   is_deleted = @is_deleted, created_at = @created_at, updated_at = @now, updated_by = @actor,
                                   revision = {TakenRevision}, key_id = @key_id
                WHERE id = @id;
                """,
                ("id", current.RowId), ("version", version), ("value", stored), ("value_type", valueType),
                ("is_encrypted", isEncrypted), ("is_deleted", p.ChangeType == ChangeType.Delete), ("created_at", createdAt),
                ("now", write.Now), ("actor", p.Actor.Name), ("key_id", keyId)));
            batch.BatchCommands.Add(Statement(
                $"""
                INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, change_description,
                                             created_at, created_by, revision, key_id)
                VALUES (@id, @version, @value, @value_type, @is_encrypted, @change_type, @change_description, @now, @actor,
                        {TakenRevision}, @key_id);
                """,
                ("id", current.RowId), ("version", version), ("value", stored), ("value_type", valueType),
                ("is_encrypted", isEncrypted), ("change_type", changeType), ("change_description", p.Description),
                ("now", write.Now), ("actor", p.Actor.Name), ("key_id", keyId)));
            batch.BatchCommands.Add(Statement(
                $"""
                INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
                VALUES ({TakenRevision}, 0, @service_name, @environment, @config_key, @version, @change_type, @now);
                """,
                ("service_name", id.ServiceName), ("environment", id.Environment), ("config_key", id.Key), ("version", version),
                ("change_type", changeType), ("now", write.Now)));
            batch.BatchCommands.Add(AuditStatement(
                p.Actor, ConfigWrites.AuditAction(p.ChangeType), id.Key, write.Now, id.ServiceName, id.Environment, current.PreviousVersion, version));

            var matching = subscriptions.Where(s => KeyPatterns.MatchesAny(s.Keys, id.Key)).Select(s => s.Id).ToArray();
            if (matching.Length > 0)
            {
                // Deliveries get their ids under the revision's lock, so a subscription's deliveries are numbered in commit order.
                batch.BatchCommands.Add(Statement(
                    $"""
                    INSERT INTO webhook_deliveries (delivery_id, subscription_id, revision, service_name, environment, config_key, version,
                                                    change_type, changed_at, status, attempts, next_attempt_at, created_at)
                    SELECT d.delivery_id, d.subscription_id, {TakenRevision}, @service_name, @environment, @config_key, @version,
                           @change_type, @now, 'pending', 0, @now, @now
                    FROM unnest(@delivery_ids, @subscription_ids) WITH ORDINALITY AS d (delivery_id, subscription_id, n)
                    ORDER BY d.n;
                    """,
                    ("delivery_ids", matching.Select(_ => WebhookTables.NewDeliveryId(write.Now)).ToArray()), ("subscription_ids", matching),
                    ("service_name", id.ServiceName), ("environment", id.Environment), ("config_key", id.Key), ("version", version),
                    ("change_type", changeType), ("now", write.Now)));
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{PostgresWriteTransaction.Channel}', 'r' || {TakenRevision});"));
            var revision = (long)(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            write.Revision = revision;
            return ConfigWrites.Result(
                id, p.ChangeType, p.Value, p.ValueType, isEncrypted, version, current.PreviousVersion, createdAt, revision, write.Now, p.Actor);
        }, cancellationToken);

    /// <summary>
    /// Locks the key's row, creating a placeholder (version 0, never committed as such) when the key never existed, and reads what
    /// a change needs: the row, the target version of a rollback, and the subscriptions of the key's service and environment.
    /// </summary>
    static async Task<(PostgresLockedRow Current, ChangePlan.Target? Target, List<(string Id, string[] Keys)> Subscriptions)> LockKeyAsync(
        PostgresWriteTransaction write, ConfigId id, long? targetVersion, CancellationToken cancellationToken)
    {
        using var batch = write.Batch();
        var key = new (string, object?)[] { ("service_name", id.ServiceName), ("environment", id.Environment), ("config_key", id.Key) };
        batch.BatchCommands.Add(Statement(
            """
            INSERT INTO configs (service_name, environment, config_key, version, is_deleted, created_at, updated_at, updated_by, revision,
                                 search_key)
            VALUES (@service_name, @environment, @config_key, 0, true, @now, @now, '', 0, @search_key)
            ON CONFLICT (service_name, environment, config_key) DO NOTHING;
            """,
            [.. key, ("now", write.Now), ("search_key", ConfigSearch.Fold(id.Key))]));
        batch.BatchCommands.Add(Statement(
            """
            SELECT id, version, is_deleted, created_at, is_encrypted FROM configs
            WHERE service_name = @service_name AND environment = @environment AND config_key = @config_key
            FOR UPDATE;
            """,
            key));
        batch.BatchCommands.Add(Statement(
            "SELECT id, config_keys FROM webhook_subscriptions WHERE service_name = @service_name AND environment = @environment;",
            key[..2]));
        if (targetVersion is { } target)
        {
            batch.BatchCommands.Add(Statement(
                $"""
                SELECT {ChangePlan.Target.Columns} FROM config_versions
                WHERE version = @version AND config_id =
                    (SELECT id FROM configs WHERE service_name = @service_name AND environment = @environment AND config_key = @config_key);
                """,
                [.. key, ("version", target)]));
        }

        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var current = ReadCurrent(reader);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            List<(string, string[])> subscriptions = [];
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                subscriptions.Add(ReadSubscriptionKeys(reader));
            }

            ChangePlan.Target? stored = null;
            if (targetVersion is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    stored = ChangePlan.Target.Read(reader, PostgresDialect.Instance);
                }
            }

            return (current, stored, subscriptions);
        }
    }

    static PostgresLockedRow ReadCurrent(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetBoolean(2), r.GetFieldValue<DateTimeOffset>(3), r.GetBoolean(4));

    static (string Id, string[] Keys) ReadSubscriptionKeys(NpgsqlDataReader r) => (r.GetString(0), r.GetFieldValue<string[]>(1));

    /// <summary>
    /// Encrypts every plaintext version of a key that is becoming encrypted, so that its whole history is. PostgreSQL keeps the
    /// old row images until VACUUM reclaims them (see docs/deployment.md).
    /// </summary>
    static async Task EncryptHistoryAsync(PostgresWriteTransaction write, ConfigId id, long rowId, CancellationToken cancellationToken)
    {
        List<(long Version, string Value)> plain;
        using (var select = write.Sql("SELECT version, value FROM config_versions WHERE config_id = @config_id AND NOT is_encrypted AND value IS NOT NULL;"))
        {
            plain = await select.With("config_id", rowId).RowsAsync(static (r, _) => (r.GetInt64(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        }

        if (plain.Count == 0)
        {
            return;
        }

        using var update = write.Sql("""
            UPDATE config_versions v SET value = u.value, is_encrypted = true, key_id = @key_id
            FROM unnest(@versions, @values) AS u (version, value)
            WHERE v.config_id = @config_id AND v.version = u.version;
            """);
        await update.With("config_id", rowId).With("key_id", write.Ring.ActiveKeyId).With("versions", plain.Select(p => p.Version).ToArray())
            .With("values", plain.Select(p => write.Ring.Encrypt(id, p.Version, p.Value)).ToArray())
            .ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The audit record of a change, with the revision the transaction took.</summary>
    static NpgsqlBatchCommand AuditStatement(
        Actor actor, string action, string target, DateTimeOffset now, string serviceName, string environment, long? fromVersion, long toVersion) =>
        Statement(
            AuditLog.InsertSql(TakenRevision),
            ("occurred_at", now), ("actor_token_id", actor.TokenId), ("actor_name", actor.Name), ("client_address", actor.ClientAddress),
            ("action", action), ("service_name", serviceName), ("environment", environment), ("target", target), ("from_version", fromVersion),
            ("to_version", toVersion), ("request_id", actor.RequestId));

    static NpgsqlBatchCommand Statement(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(PostgresDialect.Instance.Parameter(name, value));
        }

        return command;
    }

    /// <summary>The key's row as the writer locked it; version 0 is the placeholder of a key that never existed.</summary>
    sealed record PostgresLockedRow(long RowId, long Version, bool IsDeleted, DateTimeOffset CreatedAt, bool IsEncrypted)
    {
        public bool Exists => Version > 0;

        public long? PreviousVersion => Exists ? Version : null;

        public long? LiveVersion => IsDeleted || !Exists ? null : Version;

        /// <summary>Whether the key is live and encrypted; its whole history then is too.</summary>
        public bool IsLiveEncrypted => LiveVersion is not null && IsEncrypted;
    }
}
