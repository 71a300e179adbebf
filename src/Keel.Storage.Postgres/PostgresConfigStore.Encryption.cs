// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Security.Cryptography;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    const int RotationBatchSize = 256;

    /// <summary>The session advisory lock a rotation holds, so that one runs at a time across all nodes: "keel" + 1.</summary>
    const long RotationLockKey = 0x6B65656C + 1;

    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA2213:Disposable fields should be disposed",
        Justification = "It holds no wait handle, so it owns nothing to release.")]
    readonly SemaphoreSlim _ringReload = new(1, 1);

    /// <summary>Creates the first data key in a new database; runs in the migration's transaction, under its lock.</summary>
    async Task EnsureFirstDataKeyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM encryption_keys;", cancellationToken).ConfigureAwait(false) > 0)
        {
            return;
        }

        var key = KeyRing.NewDataKey();
        try
        {
            var wrapped = await _keyEncryptionKey.WrapAsync(key, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(
                connection,
                "INSERT INTO encryption_keys (id, wrapped_key, kek_id, is_active, created_at) VALUES (1, @wrapped, @kek_id, true, @now);",
                cancellationToken,
                ("wrapped", wrapped),
                ("kek_id", _keyEncryptionKey.Id),
                ("now", _timeProvider.GetUtcNow())).ConfigureAwait(false);
            Log.DataKeyCreated(_logger, 1, _keyEncryptionKey.Id);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Unwraps every stored data key.</summary>
    async Task<KeyRing> LoadKeyRingAsync(CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(0, static async (connection, _, cancellationToken) =>
        {
            using var select = new NpgsqlCommand("SELECT id, wrapped_key, kek_id, is_active FROM encryption_keys ORDER BY id;", connection);
            return await ReadAllAsync(
                select, static r => (Id: r.GetInt32(0), Wrapped: r.GetFieldValue<byte[]>(1), KekId: r.GetString(2), IsActive: r.GetBoolean(3)), 4, cancellationToken)
                .ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        return await KeyRing.UnwrapAsync(rows, _keyEncryptionKey, Database, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads the data keys again, after another node rotated them. Keys this node already held stay in its ring: a read that took
    /// its snapshot before a re-encryption committed may still hold a value under a retired key.
    /// </summary>
    async Task ReloadKeyRingAsync(CancellationToken cancellationToken)
    {
        await _ringReload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var loaded = await LoadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            var ring = _ring is { } old ? loaded.Including(old) : loaded;
            _ring = ring;
            var count = ring.KeyIds.Count();
            Log.KeyRingReloaded(_logger, count, ring.ActiveKeyId);
        }
        finally
        {
            _ringReload.Release();
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<EncryptionKeyInfo>> ListEncryptionKeysAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static async (connection, _, cancellationToken) =>
        {
            using var command = new NpgsqlCommand("SELECT id, is_active, created_at, kek_id FROM encryption_keys ORDER BY id DESC;", connection);
            IReadOnlyList<EncryptionKeyInfo> keys = await ReadAllAsync(
                command,
                static r => new EncryptionKeyInfo(r.GetInt32(0), r.GetBoolean(1), r.GetFieldValue<DateTimeOffset>(2), r.GetString(3)),
                4,
                cancellationToken).ConfigureAwait(false);
            return keys;
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<KeyRotationResult> RotateEncryptionKeyAsync(Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        NpgsqlConnection? lockConnection = null;
        try
        {
            // A session lock on a connection of its own: it is held across the rotation's many transactions, on every node.
            lockConnection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (!await ScalarAsync<bool>(lockConnection, "SELECT pg_try_advisory_lock(@key);", cancellationToken, ("key", RotationLockKey)).ConfigureAwait(false))
            {
                throw new KeelException(KeelError.RotationInProgress, "A key rotation is already running; try again when it has finished.");
            }

            try
            {
                return await RotateAsync(actor, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await ExecuteAsync(lockConnection, "SELECT pg_advisory_unlock(@key);", CancellationToken.None, ("key", RotationLockKey))
                    .ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
        finally
        {
            if (lockConnection is not null)
            {
                await lockConnection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    async Task<KeyRotationResult> RotateAsync(Actor actor, CancellationToken cancellationToken)
    {
        var key = KeyRing.NewDataKey();
        var wrapped = await _keyEncryptionKey.WrapAsync(key, cancellationToken).ConfigureAwait(false);
        var activeId = await WriteAsync((wrapped, actor), static async (store, write, state, cancellationToken) =>
        {
            // Deactivating the old key waits for every change still encrypting with it (they hold it FOR SHARE); changes that come
            // later find it inactive and reload.
            using var select = write.Command("SELECT id, (SELECT MAX(id) + 1 FROM encryption_keys) FROM encryption_keys WHERE is_active FOR UPDATE;");
            var (previous, next) = (await ReadAllAsync(select, static r => (r.GetInt32(0), r.GetInt32(1)), 1, cancellationToken).ConfigureAwait(false))[0];
            using var batch = write.Batch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE encryption_keys SET is_active = false WHERE is_active;"));
            batch.BatchCommands.Add(Statement(
                "INSERT INTO encryption_keys (id, wrapped_key, kek_id, is_active, created_at) VALUES (@id, @wrapped, @kek_id, true, @now);",
                ("id", next), ("wrapped", state.wrapped), ("kek_id", store._keyEncryptionKey.Id), ("now", write.Now)));
            batch.BatchCommands.Add(AuditStatement(
                state.actor, WireNames.AuditActions.KeyRotate, next.ToString(CultureInfo.InvariantCulture), write.Now, fromVersion: previous, toVersion: next));
            batch.BatchCommands.Add(NotifyKeys());
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return next;
        }, cancellationToken).ConfigureAwait(false);

        // Only once the key is durable may a value be encrypted with it.
        _ring = _ring!.WithActive(activeId, key);
        Log.DataKeyCreated(_logger, activeId, _keyEncryptionKey.Id);

        var (values, skippedValues) = await ReencryptAsync(
            activeId,
            """
            SELECT c.id, 0::bigint, c.service_name, c.environment, c.config_key, c.version, c.value FROM configs c
            WHERE c.key_id IS NOT NULL AND c.key_id <> @active AND c.id > @after_row
            ORDER BY c.id LIMIT @limit FOR UPDATE;
            """,
            """
            UPDATE configs c SET value = u.value, key_id = @active
            FROM unnest(@rows, @versions, @values) AS u (row_id, version, value) WHERE c.id = u.row_id;
            """,
            cancellationToken).ConfigureAwait(false);
        var (versions, skippedVersions) = await ReencryptAsync(
            activeId,
            """
            SELECT v.config_id, v.version, c.service_name, c.environment, c.config_key, v.version, v.value
            FROM config_versions v JOIN configs c ON c.id = v.config_id
            WHERE v.key_id IS NOT NULL AND v.key_id <> @active AND (v.config_id, v.version) > (@after_row, @after_version)
            ORDER BY v.config_id, v.version LIMIT @limit FOR UPDATE OF v;
            """,
            """
            UPDATE config_versions v SET value = u.value, key_id = @active
            FROM unnest(@rows, @versions, @values) AS u (row_id, version, value) WHERE v.config_id = u.row_id AND v.version = u.version;
            """,
            cancellationToken).ConfigureAwait(false);

        var retired = await WriteAsync(activeId, static async (_, write, activeId, cancellationToken) =>
        {
            // Webhook secrets are few: they are re-encrypted in the transaction that retires the keys.
            using var select = write.Command("SELECT id, secret FROM webhook_subscriptions WHERE key_id <> @active FOR UPDATE;");
            select.Parameters.Add(new NpgsqlParameter<int>("active", activeId));
            var secrets = await ReadAllAsync(select, static r => (Id: r.GetString(0), Secret: r.GetString(1)), 4, cancellationToken).ConfigureAwait(false);
            var reencrypted = secrets
                .Select(s => (s.Id, Envelope: write.Ring.ReencryptSecret(WebhookSecretPurpose, s.Id, s.Secret)))
                .Where(s => s.Envelope is not null)
                .ToList();

            using var batch = write.Batch();
            batch.BatchCommands.Add(Statement(
                """
                UPDATE webhook_subscriptions s SET secret = u.secret, key_id = @active
                FROM unnest(@ids, @secrets) AS u (id, secret) WHERE s.id = u.id;
                """,
                ("active", activeId), ("ids", reencrypted.Select(s => s.Id).ToArray()), ("secrets", reencrypted.Select(s => s.Envelope!).ToArray())));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                DELETE FROM encryption_keys k
                WHERE NOT k.is_active
                  AND NOT EXISTS (SELECT 1 FROM configs WHERE key_id = k.id)
                  AND NOT EXISTS (SELECT 1 FROM config_versions WHERE key_id = k.id)
                  AND NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE key_id = k.id)
                RETURNING k.id;
                """));
            batch.BatchCommands.Add(NotifyKeys());
            List<int> ids = [];
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                // The update returns no rows, so the reader starts at the delete's.
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    ids.Add(reader.GetInt32(0));
                }
            }

            ids.Sort();
            return ids;
        }, CancellationToken.None).ConfigureAwait(false);

        var skipped = skippedValues + skippedVersions;
        if (skipped > 0)
        {
            Log.RotationSkippedUndecryptable(_logger, skipped);
        }

        Log.RotationFinished(_logger, activeId, values, versions, retired.Count);
        return new KeyRotationResult(activeId, values, versions, retired, skipped);
    }

    /// <summary>Re-encrypts, batch by batch, each in its own short transaction, the rows that <paramref name="selectSql"/> finds.</summary>
    async Task<(long Done, long Skipped)> ReencryptAsync(int activeId, string selectSql, string updateSql, CancellationToken cancellationToken)
    {
        long done = 0, skipped = 0, afterRow = 0, afterVersion = 0;
        while (true)
        {
            var batch = await WriteAsync(
                (activeId, selectSql, updateSql, afterRow, afterVersion),
                static async (_, write, state, cancellationToken) =>
                {
                    using var select = write.Command(state.selectSql);
                    select.Parameters.Add(new NpgsqlParameter<int>("active", state.activeId));
                    select.Parameters.Add(new NpgsqlParameter<long>("after_row", state.afterRow));
                    select.Parameters.Add(new NpgsqlParameter<long>("after_version", state.afterVersion));
                    select.Parameters.Add(new NpgsqlParameter<int>("limit", RotationBatchSize));
                    var rows = await ReadAllAsync(
                        select,
                        static r => (Row: r.GetInt64(0), Version: r.GetInt64(1), Id: new ConfigId(r.GetString(2), r.GetString(3), r.GetString(4)), ValueVersion: r.GetInt64(5), Value: r.GetString(6)),
                        RotationBatchSize,
                        cancellationToken).ConfigureAwait(false);
                    var updated = rows
                        .Select(r => (r.Row, r.Version, Envelope: write.Ring.Reencrypt(r.Id, r.ValueVersion, r.Value)))
                        .Where(r => r.Envelope is not null)
                        .ToList();
                    using var update = write.Command(state.updateSql);
                    update.Parameters.Add(new NpgsqlParameter<int>("active", state.activeId));
                    update.Parameters.Add(new NpgsqlParameter<long[]>("rows", [.. updated.Select(u => u.Row)]));
                    update.Parameters.Add(new NpgsqlParameter<long[]>("versions", [.. updated.Select(u => u.Version)]));
                    update.Parameters.Add(new NpgsqlParameter<string[]>("values", [.. updated.Select(u => u.Envelope!)]));
                    await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    return (Count: rows.Count, Skipped: rows.Count - updated.Count, Last: rows.Count == 0 ? default : (rows[^1].Row, rows[^1].Version));
                },
                cancellationToken).ConfigureAwait(false);

            done += batch.Count - batch.Skipped;
            skipped += batch.Skipped;
            if (batch.Count < RotationBatchSize)
            {
                return (done, skipped);
            }

            (afterRow, afterVersion) = batch.Last;
        }
    }

    static NpgsqlBatchCommand NotifyKeys() => new($"SELECT pg_notify('{Channel}', 'k');");

    async Task<ConfigEntry> RevealAsync(ConfigEntry entry, CancellationToken cancellationToken)
    {
        if (!entry.IsEncrypted)
        {
            return entry;
        }

        var plaintext = await TryDecryptAsync(entry.Id, entry.Version, entry.Value, cancellationToken).ConfigureAwait(false);
        return plaintext is null ? entry with { Value = string.Empty, DecryptionFailed = true } : entry with { Value = plaintext };
    }

    async Task<IReadOnlyList<ConfigEntry>> RevealAllAsync(List<ConfigEntry> entries, CancellationToken cancellationToken)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i] = await RevealAsync(entries[i], cancellationToken).ConfigureAwait(false);
        }

        return entries;
    }

    async Task<ConfigVersion> RevealAsync(ConfigId id, ConfigVersion version, CancellationToken cancellationToken)
    {
        if (!version.IsEncrypted || version.Value is null)
        {
            return version;
        }

        var plaintext = await TryDecryptAsync(id, version.Version, version.Value, cancellationToken).ConfigureAwait(false);
        return plaintext is null ? version with { Value = string.Empty, DecryptionFailed = true } : version with { Value = plaintext };
    }

    /// <summary>Decrypts a stored envelope, reloading the ring once for a key another node created; logs (never the value) a failure.</summary>
    async Task<string?> TryDecryptAsync(ConfigId id, long version, string envelope, CancellationToken cancellationToken)
    {
        var status = _ring!.TryDecrypt(id, version, envelope, out var plaintext);
        if (status == DecryptionStatus.UnknownKey)
        {
            await ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            status = _ring!.TryDecrypt(id, version, envelope, out plaintext);
        }

        if (status == DecryptionStatus.Ok)
        {
            return plaintext;
        }

        Log.DecryptionFailed(_logger, id.ServiceName, id.Environment, id.Key, version, status);
        return null;
    }

    async Task<string?> RevealSecretAsync(string subscriptionId, string envelope, CancellationToken cancellationToken)
    {
        var status = _ring!.TryDecryptSecret(WebhookSecretPurpose, subscriptionId, envelope, out var secret);
        if (status == DecryptionStatus.UnknownKey)
        {
            await ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            status = _ring!.TryDecryptSecret(WebhookSecretPurpose, subscriptionId, envelope, out secret);
        }

        if (status != DecryptionStatus.Ok)
        {
            Log.WebhookSecretDecryptionFailed(_logger, subscriptionId, status);
        }

        return secret;
    }
}
