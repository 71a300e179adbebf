// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
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
/// N is too, and a reader that has seen N never meets a lower one later. The lock bounds write throughput at one transaction per
/// commit latency across the cluster, the price of a feed that needs no gap detection; group commit puts every change that queued
/// on a node meanwhile into that node's next transaction (<see cref="PostgresDatabase.TransactAsync"/>), which takes the lock
/// before its first change runs.
/// </para>
/// <para>
/// A change, to one key or to many, runs in two round trips and a commit. The first locks the keys' rows in key order (inserting
/// placeholders first, so that two creators of one key queue on it instead of failing, and two sets never wait on each other)
/// and reads what the change needs; the second takes the revision and writes every row of every table with one statement each
/// over arrays: the keys, their versions, audit records, feed rows, outbox deliveries and a <c>NOTIFY</c>, which PostgreSQL
/// delivers to every node's listener when, and only if, the change commits.
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
            var id = state.id;
            var (rows, subscriptions, target) = await LockKeysAsync(write, id.ServiceName, id.Environment, [id.Key], state.targetVersion, cancellationToken)
                .ConfigureAwait(false);
            var current = rows[id.Key];
            var change = await RecordAsync(
                write, id.ServiceName, id.Environment, [(id.Key, current, state.plan(state.request, current, target, write.Ring))], subscriptions, cancellationToken)
                .ConfigureAwait(false);
            return change.Changes[0];
        }, cancellationToken);

    /// <summary>
    /// Records each planned change as its key's next version, all under one revision: taking the revision first unless the
    /// transaction holds it already, then writing every table's rows with one statement each, in one round trip.
    /// </summary>
    static async Task<ChangeSetResult> RecordAsync(
        PostgresWriteTransaction write,
        string serviceName,
        string environment,
        IReadOnlyList<(string Key, PostgresLockedRow Current, ChangePlan Plan)> changes,
        List<(string Id, string[] Keys)> subscriptions,
        CancellationToken cancellationToken)
    {
        var n = changes.Count;
        var ids = new ConfigId[n];
        var encrypted = new bool[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = new ConfigId(serviceName, environment, changes[i].Key);
            encrypted[i] = changes[i].Plan.Encrypt && changes[i].Plan.Value is not null;
        }

        if (encrypted.Any(e => e))
        {
            await write.LockActiveKeyAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < n; i++)
            {
                if (encrypted[i] && changes[i].Current is { IsLiveEncrypted: false, Exists: true })
                {
                    await EncryptHistoryAsync(write, ids[i], changes[i].Current.RowId, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var keys = changes.Select(c => c.Key).ToArray();
        var versions = changes.Select(c => c.Current.Version + 1).ToArray();
        var changeTypes = changes.Select(c => c.Plan.ChangeType.ToWireName()).ToArray();

        // A key that comes back after a delete (by a write or a rollback) starts a new life.
        var createdAts = changes.Select(c => (c.Current.LiveVersion is null ? write.Now : c.Current.CreatedAt).ToUniversalTime()).ToArray();
        List<(string DeliveryId, string SubscriptionId, int Seq)> deliveries = [];
        for (var i = 0; i < n; i++)
        {
            foreach (var (subscriptionId, patterns) in subscriptions)
            {
                if (KeyPatterns.MatchesAny(patterns, keys[i]))
                {
                    // Deliveries get their ids under the revision's lock, so a subscription's deliveries are numbered in commit order.
                    deliveries.Add((WebhookTables.NewDeliveryId(write.Now), subscriptionId, i));
                }
            }
        }

        var actor = changes[0].Plan.Actor;
        (string, object?)[] rows =
        [
            ("now", write.Now), ("actor", actor.Name), ("service_name", serviceName), ("environment", environment), ("keys", keys),
            ("ids", changes.Select(c => c.Current.RowId).ToArray()), ("versions", versions), ("change_types", changeTypes),
            ("values", changes.Select((c, i) => encrypted[i] ? write.Ring.Encrypt(ids[i], versions[i], c.Plan.Value!) : c.Plan.Value).ToArray()),
            ("value_types", changes.Select(c => c.Plan.ValueType?.ToWireName()).ToArray()), ("encrypted", encrypted),
            ("deleted", changes.Select(c => c.Plan.ChangeType == ChangeType.Delete).ToArray()), ("created_ats", createdAts),
            ("key_ids", encrypted.Select(e => e ? write.Ring.ActiveKeyId : (int?)null).ToArray()),
            ("descriptions", changes.Select(c => c.Plan.Description).ToArray()),
            ("actions", changes.Select(c => ConfigWrites.AuditAction(c.Plan.ChangeType)).ToArray()),
            ("from_versions", changes.Select(c => c.Current.PreviousVersion).ToArray()),
        ];

        using var batch = write.Batch();
        var taken = write.Revision;
        if (taken is null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE keel_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision;"));
        }

        batch.BatchCommands.Add(Statement(
            $"""
            UPDATE configs c SET version = u.version, value = u.value, value_type = u.value_type, is_encrypted = u.is_encrypted,
                                 is_deleted = u.is_deleted, created_at = u.created_at, updated_at = @now, updated_by = @actor,
                                 revision = {TakenRevision}, key_id = u.key_id
            FROM unnest(@ids, @versions, @values, @value_types, @encrypted, @deleted, @created_ats, @key_ids)
                AS u (id, version, value, value_type, is_encrypted, is_deleted, created_at, key_id)
            WHERE c.id = u.id;
            """,
            rows));
        batch.BatchCommands.Add(Statement(
            $"""
            INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, change_description,
                                         created_at, created_by, revision, key_id)
            SELECT u.id, u.version, u.value, u.value_type, u.is_encrypted, u.change_type, u.change_description, @now, @actor,
                   {TakenRevision}, u.key_id
            FROM unnest(@ids, @versions, @values, @value_types, @encrypted, @change_types, @key_ids, @descriptions)
                AS u (id, version, value, value_type, is_encrypted, change_type, key_id, change_description);
            """,
            rows));
        batch.BatchCommands.Add(Statement(
            $"""
            INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
            SELECT {TakenRevision}, u.n - 1, @service_name, @environment, u.config_key, u.version, u.change_type, @now
            FROM unnest(@keys, @versions, @change_types) WITH ORDINALITY AS u (config_key, version, change_type, n);
            """,
            rows));
        batch.BatchCommands.Add(Statement(
            $"""
            INSERT INTO audit_log (occurred_at, actor_token_id, actor_name, client_address, action, service_name, environment,
                                   target, from_version, to_version, revision, request_id)
            SELECT @now, @actor_token_id, @actor, @client_address, u.action, @service_name, @environment, u.config_key,
                   u.from_version, u.version, {TakenRevision}, @request_id
            FROM unnest(@actions, @keys, @from_versions, @versions) WITH ORDINALITY AS u (action, config_key, from_version, version, n)
            ORDER BY u.n;
            """,
            [.. rows, ("actor_token_id", actor.TokenId), ("client_address", actor.ClientAddress), ("request_id", actor.RequestId)]));
        if (deliveries.Count > 0)
        {
            batch.BatchCommands.Add(Statement(
                $"""
                {WebhookTables.InsertDeliveryColumns}
                SELECT d.delivery_id, d.subscription_id, {TakenRevision}, @service_name, @environment, d.config_key, d.version,
                       d.change_type, @now, 'pending', 0, @now, @now
                FROM unnest(@delivery_ids, @subscription_ids, @delivery_keys, @delivery_versions, @delivery_change_types)
                    WITH ORDINALITY AS d (delivery_id, subscription_id, config_key, version, change_type, n)
                ORDER BY d.n;
                """,
                [.. rows, ("delivery_ids", deliveries.Select(d => d.DeliveryId).ToArray()),
                    ("subscription_ids", deliveries.Select(d => d.SubscriptionId).ToArray()),
                    ("delivery_keys", deliveries.Select(d => keys[d.Seq]).ToArray()),
                    ("delivery_versions", deliveries.Select(d => versions[d.Seq]).ToArray()),
                    ("delivery_change_types", deliveries.Select(d => changeTypes[d.Seq]).ToArray())]));
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{PostgresWriteTransaction.Channel}', 'r' || {TakenRevision});"));
        var scalar = await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        var revision = taken ?? (long)scalar!;
        write.Revision = revision;
        var results = new ConfigChange[n];
        for (var i = 0; i < n; i++)
        {
            var (_, current, plan) = changes[i];
            results[i] = ConfigWrites.Result(
                ids[i], plan.ChangeType, plan.Value, plan.ValueType, encrypted[i], versions[i], current.PreviousVersion, createdAts[i], revision,
                write.Now, plan.Actor);
        }

        return new ChangeSetResult { Revision = revision, Changes = results };
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
