// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Security.Cryptography;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Storage.Relational.Audit;
using Keel.Storage.Relational.Webhooks;

namespace Keel.Storage.Relational.Encryption;

/// <summary>The data keys, each wrapped by the master key, and their rotation.</summary>
/// <remarks>
/// A rotation creates a new active key, then re-encrypts, batch by batch and each batch in its own short transaction, every
/// value and version under an older key, and last the webhook secrets, in the transaction that deletes the keys nothing uses
/// any more. Writers are held up by one batch at most.
/// </remarks>
sealed class KeyTable(RelationalDatabase db) : IEncryptionKeyStore
{
    const int RotationBatchSize = 256;

    /// <summary>Creates the first data key in a new database.</summary>
    public static async Task EnsureFirstKeyAsync(Session session, RelationalDatabase db, CancellationToken cancellationToken)
    {
        using (var count = session.Sql("SELECT COUNT(*) FROM encryption_keys;"))
        {
            if (await count.Int64Async(cancellationToken).ConfigureAwait(false) > 0)
            {
                return;
            }
        }

        var key = KeyRing.NewDataKey();
        try
        {
            var (wrapped, kekId) = await WrapAsync(db.KeyEncryptionKey, key, cancellationToken).ConfigureAwait(false);
            using var insert = session.Sql(
                "INSERT INTO encryption_keys (id, wrapped_key, kek_id, is_active, created_at) VALUES (1, @wrapped, @kek_id, true, @now);");
            await insert.With("wrapped", wrapped).With("kek_id", kekId).With("now", db.Time.GetUtcNow())
                .ExecuteAsync(cancellationToken).ConfigureAwait(false);
            Log.DataKeyCreated(db.Logger, 1, kekId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Wraps again under this server's master key every data key that a retired master key wrapped, at start. Each key is its
    /// own statement, committed alone and only if the key is still as it was read, so a crash midway leaves every key wrapped by
    /// one master key or the other, and the next start, naming both, finishes the rest. <paramref name="session"/> commits each
    /// statement as it runs.
    /// </summary>
    public static async Task RewrapAsync(Session session, RelationalDatabase db, KeyRing ring, CancellationToken cancellationToken)
    {
        foreach (var (id, retired) in await StaleAsync(session, db.KeyEncryptionKey.Id, cancellationToken).ConfigureAwait(false))
        {
            await RewrapOneAsync(session, db, ring, id, retired, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task<MasterKeyRewrapResult> RewrapDataKeysAsync(Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var rotation = await db.LockRotationAsync(cancellationToken).ConfigureAwait(false);
        await using (rotation.ConfigureAwait(false))
        {
            var replaced = await db.RefreshKeyEncryptionKeyAsync(cancellationToken).ConfigureAwait(false);
            var current = db.KeyEncryptionKey.Id;

            // The ring must hold every data key to wrap it again, those another node made since this one last loaded them too.
            await db.ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            var stale = await db.ReadAsync(current, static (session, current, cancellationToken) => StaleAsync(session, current, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            var rewrapped = new List<int>();
            foreach (var (id, retired) in stale)
            {
                if (await db.WriteAsync((db, id, retired), static (write, state, cancellationToken) =>
                    RewrapOneAsync(write, state.db, write.Ring, state.id, state.retired, cancellationToken), cancellationToken).ConfigureAwait(false))
                {
                    rewrapped.Add(id);
                }
            }

            await db.WriteAsync((actor, current), static async (write, state, cancellationToken) =>
            {
                await AuditLog.AppendAsync(write, state.actor, WireNames.AuditActions.KeyRewrap, state.current, cancellationToken).ConfigureAwait(false);
                await write.NotifyAsync(StoreSignal.Keys, cancellationToken).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
            return new MasterKeyRewrapResult(current, replaced, rewrapped);
        }
    }

    static async Task<List<(int Id, string KekId)>> StaleAsync(Session session, string current, CancellationToken cancellationToken)
    {
        using var select = session.Sql("SELECT id, kek_id FROM encryption_keys WHERE kek_id <> @current ORDER BY id;");
        return await select.With("current", current).RowsAsync(static (r, _) => (r.GetInt32(0), r.GetString(1)), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Wraps data key <paramref name="id"/> again, in one statement that changes it only if <paramref name="retired"/> still wraps it.</summary>
    /// <returns><see langword="false"/> when the ring lacks the key, or another node wrapped it again first.</returns>
    static async Task<bool> RewrapOneAsync(
        Session session, RelationalDatabase db, KeyRing ring, int id, string retired, CancellationToken cancellationToken)
    {
        if (!ring.KeyIds.Contains(id))
        {
            return false;
        }

        var (wrapped, current) = await WrapAsync(db.KeyEncryptionKey, ring.KeyBytes(id), cancellationToken).ConfigureAwait(false);
        using var update = session.Sql("UPDATE encryption_keys SET wrapped_key = @wrapped, kek_id = @current WHERE id = @id AND kek_id = @retired;");
        var changed = await update.With("wrapped", wrapped).With("current", current).With("id", id).With("retired", retired)
            .ExecuteAsync(cancellationToken).ConfigureAwait(false) == 1;
        if (changed)
        {
            Log.DataKeyRewrapped(db.Logger, id, retired, current);
        }

        return changed;
    }

    /// <summary>
    /// Wraps <paramref name="dataKey"/> and names the master key that wrapped it. A master key read again between the two would
    /// pair a wrapping with the wrong id, so the id is read on both sides of the wrap and the wrap repeated if it moved.
    /// </summary>
    static async Task<(byte[] Wrapped, string KekId)> WrapAsync(IKeyEncryptionKey kek, ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        while (true)
        {
            var id = kek.Id;
            var wrapped = await kek.WrapAsync(dataKey, cancellationToken).ConfigureAwait(false);
            if (string.Equals(id, kek.Id, StringComparison.Ordinal))
            {
                return (wrapped, id);
            }
        }
    }

    /// <summary>Unwraps every stored data key.</summary>
    public static async Task<KeyRing> LoadRingAsync(Session session, RelationalDatabase db, CancellationToken cancellationToken)
    {
        using var select = session.Sql("SELECT id, wrapped_key, kek_id, is_active FROM encryption_keys ORDER BY id;");
        var rows = await select.RowsAsync(
            static (r, _) => (r.GetInt32(0), r.GetFieldValue<byte[]>(1), r.GetString(2), r.GetBoolean(3)), cancellationToken).ConfigureAwait(false);
        return await KeyRing.UnwrapAsync(rows, db.KeyEncryptionKey, db.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<EncryptionKeyInfo>> ListEncryptionKeysAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(0, static async (session, _, cancellationToken) =>
        {
            using var select = session.Sql("SELECT id, is_active, created_at, kek_id FROM encryption_keys ORDER BY id DESC;");
            IReadOnlyList<EncryptionKeyInfo> keys = await select.RowsAsync(
                static (r, d) => new EncryptionKeyInfo(r.GetInt32(0), r.GetBoolean(1), d.ReadTime(r, 2), r.GetString(3)), cancellationToken)
                .ConfigureAwait(false);
            return keys;
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<KeyRotationResult> RotateEncryptionKeyAsync(Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var rotation = await db.LockRotationAsync(cancellationToken).ConfigureAwait(false);
        await using (rotation.ConfigureAwait(false))
        {
            var key = KeyRing.NewDataKey();
            var (wrapped, kekId) = await WrapAsync(db.KeyEncryptionKey, key, cancellationToken).ConfigureAwait(false);
            var activeId = await db.WriteAsync((kekId, wrapped, actor), static async (write, state, cancellationToken) =>
            {
                // Deactivating the old key waits for every change still encrypting with it where changes hold it locked.
                int previous, next;
                using (var select = write.Sql(
                    $"SELECT id, (SELECT MAX(id) + 1 FROM encryption_keys) FROM encryption_keys WHERE is_active{write.Dialect.ForUpdate()};"))
                {
                    (previous, next) = (await select.RowsAsync(static (r, _) => (r.GetInt32(0), r.GetInt32(1)), cancellationToken).ConfigureAwait(false))[0];
                }

                using (var insert = write.Sql("""
                    UPDATE encryption_keys SET is_active = false WHERE is_active;
                    INSERT INTO encryption_keys (id, wrapped_key, kek_id, is_active, created_at) VALUES (@id, @wrapped, @kek_id, true, @now);
                    """))
                {
                    await insert.With("id", next).With("wrapped", state.wrapped).With("kek_id", state.kekId).With("now", write.Now)
                        .ExecuteAsync(cancellationToken).ConfigureAwait(false);
                }

                await AuditLog.AppendAsync(
                    write, state.actor, WireNames.AuditActions.KeyRotate, next.ToString(CultureInfo.InvariantCulture), cancellationToken,
                    fromVersion: previous, toVersion: next).ConfigureAwait(false);
                await write.NotifyAsync(StoreSignal.Keys, cancellationToken).ConfigureAwait(false);
                return next;
            }, cancellationToken).ConfigureAwait(false);

            // Only once the key is durable may a value be encrypted with it.
            db.Ring = db.Ring.WithActive(activeId, key);
            Log.DataKeyCreated(db.Logger, activeId, kekId);

            var forUpdate = db.Dialect.ForUpdate();
            var (values, skippedValues) = await ReencryptAsync(
                activeId,
                $"""
                SELECT c.id, CAST(0 AS BIGINT), c.service_name, c.environment, c.config_key, c.version, c.value FROM configs c
                WHERE c.key_id IS NOT NULL AND c.key_id <> @active AND c.id > @after_row
                ORDER BY c.id LIMIT @limit{forUpdate};
                """,
                "UPDATE configs SET value = @value, key_id = @active WHERE id = @row;",
                cancellationToken).ConfigureAwait(false);
            var (versions, skippedVersions) = await ReencryptAsync(
                activeId,
                $"""
                SELECT v.config_id, v.version, c.service_name, c.environment, c.config_key, v.version, v.value
                FROM config_versions v JOIN configs c ON c.id = v.config_id
                WHERE v.key_id IS NOT NULL AND v.key_id <> @active AND (v.config_id, v.version) > (@after_row, @after_version)
                ORDER BY v.config_id, v.version LIMIT @limit{db.Dialect.ForUpdate("v")};
                """,
                "UPDATE config_versions SET value = @value, key_id = @active WHERE config_id = @row AND version = @version;",
                cancellationToken).ConfigureAwait(false);
            var retired = await db.WriteAsync(activeId, RetireAsync, CancellationToken.None).ConfigureAwait(false);

            var skipped = skippedValues + skippedVersions;
            if (skipped > 0)
            {
                Log.RotationSkippedUndecryptable(db.Logger, skipped);
            }

            Log.RotationFinished(db.Logger, activeId, values, versions, retired.Count);
            return new KeyRotationResult(activeId, values, versions, retired, skipped);
        }
    }

    /// <summary>Re-encrypts, batch by batch, each in its own short transaction, the rows that <paramref name="selectSql"/> finds.</summary>
    async Task<(long Done, long Skipped)> ReencryptAsync(int activeId, string selectSql, string updateSql, CancellationToken cancellationToken)
    {
        long done = 0, skipped = 0, afterRow = 0, afterVersion = 0;
        while (true)
        {
            var batch = await db.WriteAsync((activeId, selectSql, updateSql, afterRow, afterVersion), static async (write, state, cancellationToken) =>
            {
                List<(long Row, long Version, ConfigId Id, long ValueVersion, string Value)> rows;
                using (var select = write.Sql(state.selectSql))
                {
                    rows = await select.With("active", state.activeId).With("after_row", state.afterRow).With("after_version", state.afterVersion)
                        .With("limit", RotationBatchSize)
                        .RowsAsync(
                            static (r, _) => (r.GetInt64(0), r.GetInt64(1), new ConfigId(r.GetString(2), r.GetString(3), r.GetString(4)), r.GetInt64(5), r.GetString(6)),
                            cancellationToken,
                            RotationBatchSize).ConfigureAwait(false);
                }

                var skipped = 0;
                foreach (var r in rows)
                {
                    if (write.Ring.Reencrypt(r.Id, r.ValueVersion, r.Value) is not { } envelope)
                    {
                        skipped++;
                        continue;
                    }

                    using var update = write.Sql(state.updateSql);
                    await update.With("value", envelope).With("active", state.activeId).With("row", r.Row).With("version", r.Version)
                        .ExecuteAsync(CancellationToken.None).ConfigureAwait(false);
                }

                return (Count: rows.Count, Skipped: skipped, Last: rows.Count == 0 ? default : (rows[^1].Row, rows[^1].Version));
            }, cancellationToken).ConfigureAwait(false);

            done += batch.Count - batch.Skipped;
            skipped += batch.Skipped;
            if (batch.Count < RotationBatchSize)
            {
                return (done, skipped);
            }

            (afterRow, afterVersion) = batch.Last;
        }
    }

    /// <summary>
    /// Re-encrypts the webhook secrets, which are few, and deletes the inactive keys nothing uses any more. The ring keeps them
    /// for the process's lifetime: a read that took its snapshot before the last batch committed may still hold a value under one.
    /// </summary>
    static async Task<List<int>> RetireAsync(WriteTransaction write, int activeId, CancellationToken cancellationToken)
    {
        List<(string Id, string Secret)> secrets;
        using (var select = write.Sql($"SELECT id, secret FROM webhook_subscriptions WHERE key_id <> @active{write.Dialect.ForUpdate()};"))
        {
            secrets = await select.With("active", activeId).RowsAsync(static (r, _) => (r.GetString(0), r.GetString(1)), cancellationToken)
                .ConfigureAwait(false);
        }

        foreach (var (id, secret) in secrets)
        {
            if (write.Ring.ReencryptSecret(WebhookTables.SecretPurpose, id, secret) is { } envelope)
            {
                using var update = write.Sql("UPDATE webhook_subscriptions SET secret = @secret, key_id = @active WHERE id = @id;");
                await update.With("secret", envelope).With("active", activeId).With("id", id).ExecuteAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        List<int> ids;
        using (var delete = write.Sql("""
            DELETE FROM encryption_keys
            WHERE NOT is_active
              AND id NOT IN (SELECT key_id FROM configs WHERE key_id IS NOT NULL)
              AND id NOT IN (SELECT key_id FROM config_versions WHERE key_id IS NOT NULL)
              AND id NOT IN (SELECT key_id FROM webhook_subscriptions WHERE key_id IS NOT NULL)
            RETURNING id;
            """))
        {
            ids = await delete.RowsAsync(static (r, _) => r.GetInt32(0), cancellationToken).ConfigureAwait(false);
        }

        await write.NotifyAsync(StoreSignal.Keys, cancellationToken).ConfigureAwait(false);
        ids.Sort();
        return ids;
    }
}
