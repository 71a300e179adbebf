// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Storage.Relational.Audit;
using Keel.Storage.Relational.Configs;
using Keel.Storage.Relational.Webhooks;

namespace Keel.Storage.Sqlite;

/// <summary>
/// SQLite's write engine. Every change runs on the one writer connection, one transaction at a time, so changes to a key are
/// serialized and each takes the next revision in commit order without any row lock; its statements stay prepared. A change
/// appends, in its own transaction, its version, audit record, change feed row and a delivery for every subscription it matches.
/// </summary>
/// <remarks>
/// Encrypted values are stored only as envelopes. <c>secure_delete</c> is on, so a plaintext version overwritten when its key
/// becomes encrypted is zeroed in the database file, and the commit checkpoints it out of the write-ahead log.
/// </remarks>
sealed partial class SqliteConfigWriter(SqliteDatabase db) : IConfigWriter
{
    const string SelectKeySql = """
        SELECT id, version, is_deleted, created_at, is_encrypted FROM configs
        WHERE service_name = @service_name AND environment = @environment AND config_key = @config_key;
        """;

    const string InsertConfigSql = """
        INSERT INTO configs (service_name, environment, config_key, version, value, value_type, is_encrypted, is_deleted,
                             created_at, updated_at, updated_by, revision, key_id, search_key)
        VALUES (@service_name, @environment, @config_key, @version, @value, @value_type, @is_encrypted, @is_deleted,
                @created_at, @now, @actor, @revision, @key_id, @search_key)
        RETURNING id;
        """;

    const string UpdateConfigSql = """
        UPDATE configs SET version = @version, value = @value, value_type = @value_type, is_encrypted = @is_encrypted,
                           is_deleted = @is_deleted, created_at = @created_at, updated_at = @now, updated_by = @actor,
                           revision = @revision, key_id = @key_id
        WHERE id = @id;
        """;

    const string InsertVersionSql = """
        INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, change_description,
                                     created_at, created_by, revision, key_id)
        VALUES (@id, @version, @value, @value_type, @is_encrypted, @change_type, @change_description, @now, @actor, @revision, @key_id);
        """;

    const string InsertChangeSql = """
        INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
        VALUES (@revision, @seq, @service_name, @environment, @config_key, @version, @change_type, @now);
        """;

    const string InsertDeliverySql = WebhookTables.InsertDeliveryColumns + """
        VALUES (@delivery_id, @subscription_id, @revision, @service_name, @environment, @config_key, @version, @change_type, @now,
                'pending', 0, @now, @now);
        """;

    public Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken) => ChangeAsync(
        Checked(request).Id,
        request,
        targetVersion: null,
        static (request, current, _, _) => ChangePlan.ForSet(request, current?.LiveVersion, current?.IsLiveEncrypted ?? false),
        cancellationToken);

    public Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken) => ChangeAsync(
        Checked(request).Id, request, targetVersion: null, static (request, current, _, _) => ChangePlan.ForDelete(request, current?.LiveVersion), cancellationToken);

    public Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken) => ChangeAsync(
        Checked(request).Id,
        request,
        request.TargetVersion,
        static (request, current, target, ring) =>
            ChangePlan.ForRollback(request, current is not null, current?.LiveVersion, current?.IsLiveEncrypted ?? false, target, ring),
        cancellationToken);

    /// <summary>Runs one change to one key: reads its row (and a rollback's target), lets <paramref name="plan"/> decide, then records it.</summary>
    Task<ConfigChange> ChangeAsync<TRequest>(
        ConfigId id,
        TRequest request,
        long? targetVersion,
        Func<TRequest, SqliteKeyRow?, ChangePlan.Target?, KeyRing, ChangePlan> plan,
        CancellationToken cancellationToken)
        where TRequest : class =>
        db.TransactAsync((id, request, targetVersion, plan), static async (write, state, cancellationToken) =>
        {
            var current = await SelectKeyAsync(write, state.id, cancellationToken).ConfigureAwait(false);
            ChangePlan.Target? target = null;
            if (current is not null && state.targetVersion is { } version)
            {
                using var select = write.Prepared($"SELECT {ChangePlan.Target.Columns} FROM config_versions WHERE config_id = @id AND version = @version;");
                target = await select.With("id", current.RowId).With("version", version).FirstAsync(ChangePlan.Target.Read, cancellationToken)
                    .ConfigureAwait(false);
            }

            var change = state.plan(state.request, current, target, write.Ring);
            var revision = await TakeRevisionAsync(write, cancellationToken).ConfigureAwait(false);
            return await ApplyAsync(write, state.id, current, change, revision, 0, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    static async Task<SqliteKeyRow?> SelectKeyAsync(SqliteWriteTransaction write, ConfigId id, CancellationToken cancellationToken)
    {
        // By position, as SelectKeySql lists them: every change reads this row, and a lookup by name costs the reader a map of
        // its column names.
        using var select = ConfigTable.WithId(write.Prepared(SelectKeySql), id);
        return await select.FirstAsync(
            static (r, d) => new SqliteKeyRow(r.GetInt64(0), r.GetInt64(1), r.GetBoolean(2), d.ReadTime(r, 3), r.GetBoolean(4)), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Takes the store's next revision, for the changes of this transaction.</summary>
    static async Task<long> TakeRevisionAsync(SqliteWriteTransaction write, CancellationToken cancellationToken)
    {
        using var next = write.Prepared("UPDATE keel_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision;");
        var revision = await next.Int64Async(cancellationToken).ConfigureAwait(false);
        write.Revision = revision;
        return revision;
    }

    /// <summary>Records a change as the key's next version, as change <paramref name="seq"/> of <paramref name="revision"/>.</summary>
    static async Task<ConfigChange> ApplyAsync(
        SqliteWriteTransaction write, ConfigId id, SqliteKeyRow? current, ChangePlan plan, long revision, int seq, CancellationToken cancellationToken)
    {
        var version = (current?.Version ?? 0) + 1;
        var isEncrypted = plan.Encrypt && plan.Value is not null;
        if (isEncrypted && current is { IsLiveEncrypted: false })
        {
            await EncryptHistoryAsync(write, id, current.RowId, cancellationToken).ConfigureAwait(false);
        }

        // A key that comes back after a delete (by a write or a rollback) starts a new life.
        var createdAt = current?.LiveVersion is null ? write.Now : current.CreatedAt;
        var stored = isEncrypted ? write.Ring.Encrypt(id, version, plan.Value!) : plan.Value;
        int? keyId = isEncrypted ? write.Ring.ActiveKeyId : null;
        var row = current?.RowId;
        using (var upsert = write.Prepared(current is null ? InsertConfigSql : UpdateConfigSql))
        {
            upsert.With("version", version).With("value", stored)
                .With("value_type", plan.ValueType?.ToWireName()).With("is_encrypted", isEncrypted).With("is_deleted", plan.ChangeType == ChangeType.Delete)
                .With("created_at", createdAt).With("now", write.Now).With("actor", plan.Actor.Name).With("revision", revision)
                .With("key_id", keyId);
            if (current is null)
            {
                row = await ConfigTable.WithId(upsert, id).With("search_key", ConfigSearch.Fold(id.Key)).Int64Async(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await upsert.With("id", current.RowId).ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        using (var insert = write.Prepared(InsertVersionSql))
        {
            await insert.With("id", row).With("version", version).With("value", stored).With("value_type", plan.ValueType?.ToWireName())
                .With("is_encrypted", isEncrypted).With("change_type", plan.ChangeType.ToWireName()).With("change_description", plan.Description)
                .With("now", write.Now).With("actor", plan.Actor.Name).With("revision", revision).With("key_id", keyId)
                .ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }

        await AuditLog.AppendAsync(
            write, plan.Actor, ConfigWrites.AuditAction(plan.ChangeType), id.Key, cancellationToken, id.ServiceName, id.Environment, current?.Version,
            version, revision).ConfigureAwait(false);
        await PublishAsync(write, new ChangeEvent(revision, id, version, plan.ChangeType, write.Now), seq, cancellationToken).ConfigureAwait(false);
        return ConfigWrites.Result(
            id, plan.ChangeType, plan.Value, plan.ValueType, isEncrypted, version, current?.Version, createdAt, revision, write.Now, plan.Actor);
    }

    /// <summary>Appends a change to the feed and to the outbox of every subscription it matches.</summary>
    static async Task PublishAsync(SqliteWriteTransaction write, ChangeEvent change, int seq, CancellationToken cancellationToken)
    {
        using (var insert = ConfigTable.WithId(write.Prepared(InsertChangeSql), change.Id))
        {
            await insert.With("revision", change.Revision).With("seq", seq).With("version", change.Version).With("change_type", change.ChangeType.ToWireName())
                .With("now", change.Timestamp).ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }

        List<string> matching;
        using (var select = write.Prepared("SELECT id, config_keys FROM webhook_subscriptions WHERE service_name = @service_name AND environment = @environment;"))
        {
            var subscriptions = await select.With("service_name", change.Id.ServiceName).With("environment", change.Id.Environment)
                .RowsAsync(static (r, d) => (Id: r.GetString(0), Keys: d.ReadList(r, 1)), cancellationToken).ConfigureAwait(false);
            matching = subscriptions.Where(s => KeyPatterns.MatchesAny(s.Keys, change.Id.Key)).Select(s => s.Id).ToList();
        }

        foreach (var subscriptionId in matching)
        {
            using var insert = ConfigTable.WithId(write.Prepared(InsertDeliverySql), change.Id);
            await insert.With("delivery_id", WebhookTables.NewDeliveryId(change.Timestamp)).With("subscription_id", subscriptionId)
                .With("revision", change.Revision).With("version", change.Version).With("change_type", change.ChangeType.ToWireName())
                .With("now", change.Timestamp).ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Encrypts every plaintext version of a key that is becoming encrypted, so that its whole history is; <c>secure_delete</c>
    /// zeroes the old page content, and the commit's checkpoint clears the write-ahead log of it.
    /// </summary>
    static async Task EncryptHistoryAsync(SqliteWriteTransaction write, ConfigId id, long rowId, CancellationToken cancellationToken)
    {
        List<(long Version, string Value)> plain;
        using (var select = write.Sql("SELECT version, value FROM config_versions WHERE config_id = @id AND NOT is_encrypted AND value IS NOT NULL;"))
        {
            plain = await select.With("id", rowId).RowsAsync(static (r, _) => (r.GetInt64(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        }

        foreach (var (version, value) in plain)
        {
            using var update = write.Sql("UPDATE config_versions SET value = @value, is_encrypted = true, key_id = @key_id WHERE config_id = @id AND version = @version;");
            await update.With("value", write.Ring.Encrypt(id, version, value)).With("key_id", write.Ring.ActiveKeyId).With("id", rowId).With("version", version)
                .ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }

        write.Database.PlaintextOverwritten |= plain.Count > 0;
    }

    static T Checked<T>(T request)
        where T : class => request ?? throw new ArgumentNullException(nameof(request));

    /// <summary>A key's row as the writer sees it inside its transaction; absent for a key never written.</summary>
    sealed record SqliteKeyRow(long RowId, long Version, bool IsDeleted, DateTimeOffset CreatedAt, bool IsEncrypted)
    {
        public long? LiveVersion => IsDeleted ? null : Version;

        /// <summary>Whether the key is live and encrypted; its whole history then is too.</summary>
        public bool IsLiveEncrypted => !IsDeleted && IsEncrypted;
    }
}
