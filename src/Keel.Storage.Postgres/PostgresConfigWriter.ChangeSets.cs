// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Storage.Relational.Configs;
using Keel.Storage.Relational.Webhooks;
using Npgsql;

namespace Keel.Storage.Postgres;

sealed partial class PostgresConfigWriter
{
    /// <summary>Every item of a change set, in one transaction and under one revision, with the items' order as their sequence.</summary>
    /// <remarks>
    /// Three round trips and the commit, whatever the number of keys: lock every key's row (in key order, so that two sets never
    /// wait on each other), take the revision (and check <see cref="ChangeSetRequest.UnchangedSince"/> under its lock, after which
    /// no other change can commit first), then write every row of every table with one statement each over arrays.
    /// </remarks>
    public Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return db.TransactAsync(request, static async (write, request, cancellationToken) =>
        {
            var keys = request.Items.Select(i => i.Key).ToArray();
            var (rows, subscriptions) = await LockKeysAsync(write, request, keys, cancellationToken).ConfigureAwait(false);
            var current = Array.ConvertAll(keys, k => rows[k]);
            var plans = ConfigWrites.PlanChangeSet(request, i => (current[i].LiveVersion, current[i].IsLiveEncrypted));
            if (plans.Length == 0)
            {
                return new ChangeSetResult { Changes = [] };
            }

            var ids = Array.ConvertAll(keys, k => new ConfigId(request.ServiceName, request.Environment, k));
            if (plans.Any(p => p.Encrypt))
            {
                await write.LockActiveKeyAsync(cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < plans.Length; i++)
                {
                    if (plans[i].Encrypt && current[i] is { IsLiveEncrypted: false, Exists: true })
                    {
                        await EncryptHistoryAsync(write, ids[i], current[i].RowId, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            var revision = await TakeRevisionAsync(write, request, cancellationToken).ConfigureAwait(false);
            var n = plans.Length;
            var rowIds = new long[n];
            var versions = new long[n];
            var fromVersions = new long?[n];
            var stored = new string?[n];
            var valueTypes = new string?[n];
            var encrypted = new bool[n];
            var deleted = new bool[n];
            var createdAts = new DateTimeOffset[n];
            var keyIds = new int?[n];
            var changeTypes = new string[n];
            var actions = new string[n];
            var changes = new ConfigChange[n];
            List<(string DeliveryId, string SubscriptionId, int Seq)> deliveries = [];
            for (var i = 0; i < n; i++)
            {
                var (changeType, encrypt) = plans[i];
                var item = request.Items[i];
                var row = current[i];
                var isEncrypted = encrypt && item.Value is not null;
                rowIds[i] = row.RowId;
                versions[i] = row.Version + 1;
                fromVersions[i] = row.PreviousVersion;
                stored[i] = isEncrypted ? write.Ring.Encrypt(ids[i], versions[i], item.Value!) : item.Value;
                valueTypes[i] = item.ValueType?.ToWireName();
                encrypted[i] = isEncrypted;
                deleted[i] = changeType == ChangeType.Delete;
                createdAts[i] = (row.LiveVersion is null ? write.Now : row.CreatedAt).ToUniversalTime();
                keyIds[i] = isEncrypted ? write.Ring.ActiveKeyId : null;
                changeTypes[i] = changeType.ToWireName();
                actions[i] = ConfigWrites.AuditAction(changeType);
                changes[i] = ConfigWrites.Result(
                    ids[i], changeType, item.Value, item.ValueType, isEncrypted, versions[i], row.PreviousVersion, createdAts[i], revision,
                    write.Now, request.Actor);
                foreach (var (subscriptionId, patterns) in subscriptions)
                {
                    if (KeyPatterns.MatchesAny(patterns, item.Key))
                    {
                        deliveries.Add((WebhookTables.NewDeliveryId(write.Now), subscriptionId, i));
                    }
                }
            }

            using var batch = write.Batch();
            (string, object?)[] common =
            [
                ("revision", revision), ("now", write.Now), ("actor", request.Actor.Name), ("service_name", request.ServiceName),
                ("environment", request.Environment),
            ];
            batch.BatchCommands.Add(Statement(
                """
                UPDATE configs c SET version = u.version, value = u.value, value_type = u.value_type, is_encrypted = u.is_encrypted,
                                     is_deleted = u.is_deleted, created_at = u.created_at, updated_at = @now, updated_by = @actor,
                                     revision = @revision, key_id = u.key_id
                FROM unnest(@ids, @versions, @values, @value_types, @encrypted, @deleted, @created_ats, @key_ids)
                    AS u (id, version, value, value_type, is_encrypted, is_deleted, created_at, key_id)
                WHERE c.id = u.id;
                """,
                [.. common, ("ids", rowIds), ("versions", versions), ("values", stored), ("value_types", valueTypes), ("encrypted", encrypted),
                    ("deleted", deleted), ("created_ats", createdAts), ("key_ids", keyIds)]));
            batch.BatchCommands.Add(Statement(
                """
                INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, change_description,
                                             created_at, created_by, revision, key_id)
                SELECT u.id, u.version, u.value, u.value_type, u.is_encrypted, u.change_type, @change_description, @now, @actor,
                       @revision, u.key_id
                FROM unnest(@ids, @versions, @values, @value_types, @encrypted, @change_types, @key_ids)
                    AS u (id, version, value, value_type, is_encrypted, change_type, key_id);
                """,
                [.. common, ("ids", rowIds), ("versions", versions), ("values", stored), ("value_types", valueTypes), ("encrypted", encrypted),
                    ("change_types", changeTypes), ("key_ids", keyIds), ("change_description", request.ChangeDescription)]));
            batch.BatchCommands.Add(Statement(
                """
                INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
                SELECT @revision, u.n - 1, @service_name, @environment, u.config_key, u.version, u.change_type, @now
                FROM unnest(@keys, @versions, @change_types) WITH ORDINALITY AS u (config_key, version, change_type, n);
                """,
                [.. common, ("keys", keys), ("versions", versions), ("change_types", changeTypes)]));
            batch.BatchCommands.Add(Statement(
                """
                INSERT INTO audit_log (occurred_at, actor_token_id, actor_name, client_address, action, service_name, environment,
                                       target, from_version, to_version, revision, request_id)
                SELECT @now, @actor_token_id, @actor, @client_address, u.action, @service_name, @environment, u.config_key,
                       u.from_version, u.version, @revision, @request_id
                FROM unnest(@actions, @keys, @from_versions, @versions) WITH ORDINALITY AS u (action, config_key, from_version, version, n)
                ORDER BY u.n;
                """,
                [.. common, ("actions", actions), ("keys", keys), ("from_versions", fromVersions), ("versions", versions),
                    ("actor_token_id", request.Actor.TokenId), ("client_address", request.Actor.ClientAddress),
                    ("request_id", request.Actor.RequestId)]));
            if (deliveries.Count > 0)
            {
                batch.BatchCommands.Add(Statement(
                    """
                    INSERT INTO webhook_deliveries (delivery_id, subscription_id, revision, service_name, environment, config_key, version,
                                                    change_type, changed_at, status, attempts, next_attempt_at, created_at)
                    SELECT d.delivery_id, d.subscription_id, @revision, @service_name, @environment, d.config_key, d.version,
                           d.change_type, @now, 'pending', 0, @now, @now
                    FROM unnest(@delivery_ids, @subscription_ids, @delivery_keys, @delivery_versions, @delivery_change_types)
                        WITH ORDINALITY AS d (delivery_id, subscription_id, config_key, version, change_type, n)
                    ORDER BY d.n;
                    """,
                    [.. common, ("delivery_ids", deliveries.Select(d => d.DeliveryId).ToArray()),
                        ("subscription_ids", deliveries.Select(d => d.SubscriptionId).ToArray()),
                        ("delivery_keys", deliveries.Select(d => keys[d.Seq]).ToArray()),
                        ("delivery_versions", deliveries.Select(d => versions[d.Seq]).ToArray()),
                        ("delivery_change_types", deliveries.Select(d => changeTypes[d.Seq]).ToArray())]));
            }

            batch.BatchCommands.Add(Statement($"SELECT pg_notify('{PostgresWriteTransaction.Channel}', 'r' || @revision);", ("revision", revision)));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            write.Revision = revision;
            return new ChangeSetResult { Revision = revision, Changes = changes };
        }, cancellationToken);
    }

    /// <summary>
    /// Locks the rows of every key of a change set in key order, creating placeholders (version 0, never committed as such) for
    /// keys that never existed, and reads the subscriptions of the service and environment.
    /// </summary>
    static async Task<(Dictionary<string, PostgresLockedRow> Rows, List<(string Id, string[] Keys)> Subscriptions)> LockKeysAsync(
        PostgresWriteTransaction write, ChangeSetRequest request, string[] keys, CancellationToken cancellationToken)
    {
        using var batch = write.Batch();
        (string, object?)[] scope = [("service_name", request.ServiceName), ("environment", request.Environment)];
        batch.BatchCommands.Add(Statement(
            """
            INSERT INTO configs (service_name, environment, config_key, version, is_deleted, created_at, updated_at, updated_by, revision,
                                 search_key)
            SELECT @service_name, @environment, u.k, 0, true, @now, @now, '', 0, u.f FROM unnest(@keys, @search_keys) AS u (k, f)
            ORDER BY u.k COLLATE "C"
            ON CONFLICT (service_name, environment, config_key) DO NOTHING;
            """,
            [.. scope, ("keys", keys), ("search_keys", Array.ConvertAll(keys, ConfigSearch.Fold)), ("now", write.Now)]));
        batch.BatchCommands.Add(Statement(
            """
            SELECT id, version, is_deleted, created_at, is_encrypted, config_key FROM configs
            WHERE service_name = @service_name AND environment = @environment AND config_key = ANY(@keys)
            ORDER BY config_key
            FOR UPDATE;
            """,
            [.. scope, ("keys", keys)]));
        batch.BatchCommands.Add(Statement(
            "SELECT id, config_keys FROM webhook_subscriptions WHERE service_name = @service_name AND environment = @environment;", scope));

        var rows = new Dictionary<string, PostgresLockedRow>(keys.Length, StringComparer.Ordinal);
        List<(string, string[])> subscriptions = [];
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
        }

        return (rows, subscriptions);
    }

    /// <summary>
    /// Takes the next revision, holding its lock until commit, and then checks that the scope did not change since the revision
    /// the set was planned from: every change that took a revision before this one has committed by now, and none can after.
    /// </summary>
    static async Task<long> TakeRevisionAsync(PostgresWriteTransaction write, ChangeSetRequest request, CancellationToken cancellationToken)
    {
        using var batch = write.Batch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE keel_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision;"));
        if (request.UnchangedSince is not null)
        {
            batch.BatchCommands.Add(Statement(
                ConfigTable.LastChangeRevisionSql, ("service_name", request.ServiceName), ("environment", request.Environment)));
        }

        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var revision = reader.GetInt64(0);
            if (request.UnchangedSince is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                ConfigWrites.CheckUnchangedSince(request, reader.GetInt64(0));
            }

            return revision;
        }
    }
}
