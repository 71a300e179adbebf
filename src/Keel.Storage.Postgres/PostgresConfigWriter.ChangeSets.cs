// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Storage.Relational.Configs;
using Npgsql;

namespace Keel.Storage.Postgres;

sealed partial class PostgresConfigWriter
{
    /// <summary>Every item of a change set, in one transaction and under one revision, with the items' order as their sequence.</summary>
    /// <remarks>
    /// A set with <see cref="ChangeSetRequest.UnchangedSince"/> takes the revision in a round trip of its own and checks the
    /// condition under its lock, after which no other change can commit first.
    /// </remarks>
    public Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return db.TransactAsync(request, static async (write, request, cancellationToken) =>
        {
            var keys = request.Items.Select(i => i.Key).ToArray();
            var (rows, subscriptions, _) = await LockKeysAsync(write, request.ServiceName, request.Environment, keys, null, cancellationToken)
                .ConfigureAwait(false);
            var current = Array.ConvertAll(keys, k => rows[k]);
            var plans = ConfigWrites.PlanChangeSet(request, i => (current[i].LiveVersion, current[i].IsLiveEncrypted));
            if (plans.Length == 0)
            {
                return new ChangeSetResult { Changes = [] };
            }

            if (request.UnchangedSince is not null)
            {
                await TakeRevisionCheckedAsync(write, request, cancellationToken).ConfigureAwait(false);
            }

            var changes = plans.Select((p, i) => (
                keys[i], current[i], new ChangePlan(p.ChangeType, request.Items[i].Value, request.Items[i].ValueType, p.Encrypt, request.ChangeDescription, request.Actor)))
                .ToArray();
            return await RecordAsync(write, request.ServiceName, request.Environment, changes, subscriptions, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>
    /// Locks the rows of the keys in key order, creating placeholders (version 0, never committed as such) for keys that never
    /// existed, and reads the subscriptions of the service and environment and, for a rollback, the version it returns to.
    /// </summary>
    static async Task<(Dictionary<string, PostgresLockedRow> Rows, List<(string Id, string[] Keys)> Subscriptions, ChangePlan.Target? Target)> LockKeysAsync(
        PostgresWriteTransaction write, string serviceName, string environment, string[] keys, long? targetVersion, CancellationToken cancellationToken)
    {
        using var batch = write.Batch();
        (string, object?)[] scope = [("service_name", serviceName), ("environment", environment), ("keys", keys)];
        batch.BatchCommands.Add(Statement(
            """
            INSERT INTO configs (service_name, environment, config_key, version, is_deleted, created_at, updated_at, updated_by, revision,
                                 search_key)
            SELECT @service_name, @environment, u.k, 0, true, @now, @now, '', 0, u.f FROM unnest(@keys, @search_keys) AS u (k, f)
            ORDER BY u.k COLLATE "C"
            ON CONFLICT (service_name, environment, config_key) DO NOTHING;
            """,
            [.. scope, ("search_keys", Array.ConvertAll(keys, ConfigSearch.Fold)), ("now", write.Now)]));
        batch.BatchCommands.Add(Statement(
            """
            SELECT id, version, is_deleted, created_at, is_encrypted, config_key FROM configs
            WHERE service_name = @service_name AND environment = @environment AND config_key = ANY(@keys)
            ORDER BY config_key
            FOR UPDATE;
            """,
            scope));
        batch.BatchCommands.Add(Statement(
            "SELECT id, config_keys FROM webhook_subscriptions WHERE service_name = @service_name AND environment = @environment;", scope));
        if (targetVersion is { } target)
        {
            batch.BatchCommands.Add(Statement(
                $"""
                SELECT {ChangePlan.Target.Columns} FROM config_versions
                WHERE version = @version AND config_id =
                    (SELECT id FROM configs WHERE service_name = @service_name AND environment = @environment AND config_key = @keys[1]);
                """,
                [.. scope, ("version", target)]));
        }

        var rows = new Dictionary<string, PostgresLockedRow>(keys.Length, StringComparer.Ordinal);
        List<(string, string[])> subscriptions = [];
        ChangePlan.Target? stored = null;
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows[reader.GetString(5)] = ReadCurrent(reader);
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                subscriptions.Add(ReadSubscriptionKeys(reader));
            }

            if (targetVersion is not null && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)
                && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                stored = ChangePlan.Target.Read(reader, PostgresDialect.Instance);
            }
        }

        return (rows, subscriptions, stored);
    }

    /// <summary>
    /// Takes the next revision, holding its lock until commit, and then checks that the scope did not change since the revision
    /// the set was planned from: every change that took a revision before this one has committed by now, and none can after.
    /// </summary>
    static async Task TakeRevisionCheckedAsync(PostgresWriteTransaction write, ChangeSetRequest request, CancellationToken cancellationToken)
    {
        using var batch = write.Batch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE keel_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision;"));
        batch.BatchCommands.Add(Statement(ConfigTable.LastChangeRevisionSql, ("service_name", request.ServiceName), ("environment", request.Environment)));
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            write.Revision = reader.GetInt64(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ConfigWrites.CheckUnchangedSince(request, reader.GetInt64(0));
        }
    }
}
