// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    /// <summary>The revision the current transaction took, as SQL: valid after the batch's first statement took it.</summary>
    const string TakenRevision = "(SELECT revision FROM keel_revision WHERE id = 1)";

    /// <summary>How many times a change is retried when the key ring it encrypted with turns out to be out of date.</summary>
    const int StaleRingRetries = 3;

    /// <inheritdoc/>
    public Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync(request.Id, request, targetVersion: null, static (request, current, _, _) =>
        {
            var (changeType, encrypt) = ConfigWrites.PlanSet(request, current.LiveVersion, current.IsLiveEncrypted);
            return new Plan(changeType, request.Value, request.ValueType, encrypt, request.ChangeDescription, request.Actor);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync(request.Id, request, targetVersion: null, static (request, current, _, _) =>
        {
            ConfigWrites.CheckDelete(request, current.LiveVersion);
            return new Plan(ChangeType.Delete, null, null, Encrypt: false, request.ChangeDescription, request.Actor);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync(request.Id, request, request.TargetVersion, static (request, current, target, ring) =>
        {
            ConfigWrites.CheckRollback(request, current.Exists, target?.ChangeType, current.LiveVersion);
            var value = target!.Value;
            if (target.IsEncrypted && ring.TryDecrypt(request.Id, request.TargetVersion, value!, out value) != DecryptionStatus.Ok)
            {
                throw ConfigWrites.RollbackTargetUndecryptable(request);
            }

            return new Plan(
                ChangeType.Rollback,
                value,
                target.ValueType,
                target.IsEncrypted || current.IsLiveEncrypted,
                ConfigWrites.RollbackDescription(request),
                request.Actor);
        }, cancellationToken);
    }

    /// <summary>Runs one change to one key: locks its row, lets <paramref name="plan"/> decide, then records the change.</summary>
    Task<ConfigChange> ChangeAsync<TRequest>(
        ConfigId id,
        TRequest request,
        long? targetVersion,
        Func<TRequest, CurrentRow, StoredVersion?, KeyRing, Plan> plan,
        CancellationToken cancellationToken) =>
        WriteAsync((id, request, targetVersion, plan), static async (store, write, state, cancellationToken) =>
        {
            var (current, target, subscriptions) = await LockKeyAsync(write, state.id, state.targetVersion, cancellationToken).ConfigureAwait(false);
            var p = state.plan(state.request, current, target, write.Ring);
            var version = current.Version + 1;
            var isEncrypted = p.Encrypt && p.Value is not null;
            if (isEncrypted)
            {
                await write.EnsureActiveKeyAsync(cancellationToken).ConfigureAwait(false);
                if (current is { IsLiveEncrypted: false, Exists: true })
                {
                    await EncryptHistoryAsync(write, state.id, current.RowId, cancellationToken).ConfigureAwait(false);
                }
            }

            // A key that comes back after a delete (by a write or a rollback) starts a new life.
            var createdAt = current.LiveVersion is null ? write.Now : current.CreatedAt;
            var stored = isEncrypted ? write.Ring.Encrypt(state.id, version, p.Value!) : p.Value;
            object keyId = isEncrypted ? write.Ring.ActiveKeyId : DBNull.Value;
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
                ("id", current.RowId), ("version", version), ("value", Nullable(stored)), ("value_type", Nullable(valueType)),
                ("is_encrypted", isEncrypted), ("is_deleted", p.ChangeType == ChangeType.Delete), ("created_at", createdAt),
                ("now", write.Now), ("actor", p.Actor.Name), ("key_id", keyId)));
            batch.BatchCommands.Add(Statement(
                $"""
                INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, change_description,
                                             created_at, created_by, revision, key_id)
                VALUES (@id, @version, @value, @value_type, @is_encrypted, @change_type, @change_description, @now, @actor,
                        {TakenRevision}, @key_id);
                """,
                ("id", current.RowId), ("version", version), ("value", Nullable(stored)), ("value_type", Nullable(valueType)),
                ("is_encrypted", isEncrypted), ("change_type", changeType), ("change_description", Nullable(p.Description)),
                ("now", write.Now), ("actor", p.Actor.Name), ("key_id", keyId)));
            batch.BatchCommands.Add(Statement(
                $"""
                INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
                VALUES ({TakenRevision}, 0, @service_name, @environment, @config_key, @version, @change_type, @now);
                """,
                ("service_name", id.ServiceName), ("environment", id.Environment), ("config_key", id.Key), ("version", version),
                ("change_type", changeType), ("now", write.Now)));
            batch.BatchCommands.Add(AuditStatement(
                p.Actor, ConfigWrites.AuditAction(p.ChangeType), id.Key, write.Now, id.ServiceName, id.Environment,
                current.PreviousVersion, version, revision: null, takenRevision: true));

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
                    ("delivery_ids", matching.Select(_ => NewDeliveryId(write.Now)).ToArray()), ("subscription_ids", matching),
                    ("service_name", id.ServiceName), ("environment", id.Environment), ("config_key", id.Key), ("version", version),
                    ("change_type", changeType), ("now", write.Now)));
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{Channel}', 'r' || {TakenRevision});"));
            var revision = (long)(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            write.Revision = revision;
            return ConfigWrites.Result(
                id, p.ChangeType, p.Value, p.ValueType, isEncrypted, version, current.PreviousVersion, createdAt, revision, write.Now, p.Actor);
        }, cancellationToken);

    /// <summary>
    /// Locks the key's row, creating a placeholder (version 0, never committed as such) when the key never existed, and reads what
    /// a change needs: the row, the target version of a rollback, and the subscriptions of the key's service and environment.
    /// </summary>
    static async Task<(CurrentRow Current, StoredVersion? Target, List<(string Id, string[] Keys)> Subscriptions)> LockKeyAsync(
        Write write, ConfigId id, long? targetVersion, CancellationToken cancellationToken)
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
                """
                SELECT value, value_type, is_encrypted, change_type FROM config_versions
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

            StoredVersion? stored = null;
            if (targetVersion is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    stored = ReadStoredVersion(reader);
                }
            }

            return (current, stored, subscriptions);
        }
    }

    static CurrentRow ReadCurrent(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetBoolean(2), r.GetFieldValue<DateTimeOffset>(3), r.GetBoolean(4));

    static (string Id, string[] Keys) ReadSubscriptionKeys(NpgsqlDataReader r) => (r.GetString(0), r.GetFieldValue<string[]>(1));

    static StoredVersion ReadStoredVersion(NpgsqlDataReader r) => new(
        r.IsDBNull(0) ? null : r.GetString(0),
        r.IsDBNull(1) ? null : ConfigValueTypes.ParseStored(r.GetString(1)),
        r.GetBoolean(2),
        ChangeTypes.ParseStored(r.GetString(3)));

    /// <summary>
    /// Encrypts every plaintext version of a key that is becoming encrypted, so that its whole history is. PostgreSQL keeps the
    /// old row images until VACUUM reclaims them (see docs/deployment.md).
    /// </summary>
    static async Task EncryptHistoryAsync(Write write, ConfigId id, long rowId, CancellationToken cancellationToken)
    {
        List<(long Version, string Value)> plain;
        using (var select = write.Command(
            "SELECT version, value FROM config_versions WHERE config_id = @config_id AND NOT is_encrypted AND value IS NOT NULL;"))
        {
            select.Parameters.Add(new NpgsqlParameter<long>("config_id", rowId));
            plain = await ReadAllAsync(select, static r => (r.GetInt64(0), r.GetString(1)), 4, cancellationToken).ConfigureAwait(false);
        }

        if (plain.Count == 0)
        {
            return;
        }

        using var update = write.Command("""
            UPDATE config_versions v SET value = u.value, is_encrypted = true, key_id = @key_id
            FROM unnest(@versions, @values) AS u (version, value)
            WHERE v.config_id = @config_id AND v.version = u.version;
            """);
        update.Parameters.Add(new NpgsqlParameter<long>("config_id", rowId));
        update.Parameters.Add(new NpgsqlParameter<int>("key_id", write.Ring.ActiveKeyId));
        update.Parameters.Add(new NpgsqlParameter<long[]>("versions", [.. plain.Select(p => p.Version)]));
        update.Parameters.Add(new NpgsqlParameter<string[]>("values", [.. plain.Select(p => write.Ring.Encrypt(id, p.Version, p.Value))]));
        await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction and commits it, raising <see cref="Committed"/> when it took a revision. A
    /// change that encrypted with a data key another node has since retired is run again on the reloaded key ring.
    /// </summary>
    async Task<TResult> WriteAsync<TState, TResult>(
        TState state, Func<PostgresConfigStore, Write, TState, CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    await using (transaction.ConfigureAwait(false))
                    {
                        var write = new Write(connection, transaction, _ring!, TruncateToMicroseconds(_timeProvider.GetUtcNow()));
                        var result = await work(this, write, state, cancellationToken).ConfigureAwait(false);

                        // Once the work is done the commit is not cancelled: a change either commits or is rolled back whole.
                        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                        if (write.Revision is { } revision)
                        {
                            Committed?.Invoke(revision);
                        }

                        return result;
                    }
                }
            }
            catch (StaleKeyRingException) when (attempt < StaleRingRetries)
            {
                await ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                throw Unavailable(e);
            }
        }
    }

    /// <summary>An audit record insert; <paramref name="takenRevision"/> records the revision the transaction took.</summary>
    static NpgsqlBatchCommand AuditStatement(
        Actor actor,
        string action,
        string target,
        DateTimeOffset now,
        string? serviceName = null,
        string? environment = null,
        long? fromVersion = null,
        long? toVersion = null,
        long? revision = null,
        bool takenRevision = false) =>
        Statement(
            $"""
            INSERT INTO audit_log (occurred_at, actor_token_id, actor_name, client_address, action, service_name, environment,
                                   target, from_version, to_version, revision, request_id)
            VALUES (@occurred_at, @actor_token_id, @actor_name, @client_address, @action, @service_name, @environment,
                    @target, @from_version, @to_version, {(takenRevision ? TakenRevision : "@revision")}, @request_id);
            """,
            ("occurred_at", now), ("actor_token_id", Nullable(actor.TokenId)), ("actor_name", actor.Name),
            ("client_address", Nullable(actor.ClientAddress)), ("action", action), ("service_name", Nullable(serviceName)),
            ("environment", Nullable(environment)), ("target", target), ("from_version", Nullable(fromVersion)),
            ("to_version", Nullable(toVersion)), ("revision", Nullable(revision)), ("request_id", Nullable(actor.RequestId)));

    static NpgsqlBatchCommand Statement(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(Parameter(name, value));
        }

        return command;
    }

    // Version 7: unique without coordination, and ordered by creation for anyone who sorts them.
    static string NewDeliveryId(DateTimeOffset at) => Guid.CreateVersion7(at).ToString();

    /// <summary>What a change will record, as its plan decided.</summary>
    sealed record Plan(ChangeType ChangeType, string? Value, ConfigValueType? ValueType, bool Encrypt, string? Description, Actor Actor);

    /// <summary>The key's row as the writer locked it; version 0 is the placeholder of a key that never existed.</summary>
    sealed record CurrentRow(long RowId, long Version, bool IsDeleted, DateTimeOffset CreatedAt, bool IsEncrypted)
    {
        public bool Exists => Version > 0;

        public long? PreviousVersion => Exists ? Version : null;

        public long? LiveVersion => IsDeleted || !Exists ? null : Version;

        /// <summary>Whether the key is live and encrypted; its whole history then is too.</summary>
        public bool IsLiveEncrypted => LiveVersion is not null && IsEncrypted;
    }

    sealed record StoredVersion(string? Value, ConfigValueType? ValueType, bool IsEncrypted, ChangeType ChangeType);

    /// <summary>The change encrypted with a data key that is no longer active; the key ring is reloaded and the change run again.</summary>
    sealed class StaleKeyRingException : Exception;

    /// <summary>One write transaction.</summary>
    sealed class Write(NpgsqlConnection connection, NpgsqlTransaction transaction, KeyRing ring, DateTimeOffset now)
    {
        public NpgsqlConnection Connection { get; } = connection;

        public KeyRing Ring { get; } = ring;

        public DateTimeOffset Now { get; } = now;

        /// <summary>The revision the transaction took, if it took one.</summary>
        public long? Revision { get; set; }

        public NpgsqlBatch Batch() => new(Connection, transaction);

        public NpgsqlCommand Command(string sql) => new(sql, Connection, transaction);

        /// <summary>
        /// Holds the ring's active data key in place until commit (rotation on another node waits), and finds out whether it is
        /// still the active one.
        /// </summary>
        public async Task EnsureActiveKeyAsync(CancellationToken cancellationToken)
        {
            using var command = Command("SELECT is_active FROM encryption_keys WHERE id = @id FOR SHARE;");
            command.Parameters.Add(new NpgsqlParameter<int>("id", Ring.ActiveKeyId));
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                throw new StaleKeyRingException();
            }
        }
    }
}
