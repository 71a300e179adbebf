// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Microsoft.Data.Sqlite;

namespace Keel.Storage.Sqlite;

public sealed partial class SqliteConfigStore
{
    const int RotationBatchSize = 256;

    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA2213:Disposable fields should be disposed",
        Justification = "It holds no wait handle, so it owns nothing to release.")]
    readonly SemaphoreSlim _rotationLock = new(1, 1);

    /// <summary>Unwraps the stored data keys, creating the first one in a new database.</summary>
    async Task<KeyRing> LoadKeyRingAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        List<(int Id, byte[] Wrapped, string KekId, bool IsActive)> rows = [];
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT id, wrapped_key, kek_id, is_active FROM encryption_keys ORDER BY id;";
            using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetInt32(0), (byte[])reader[1], reader.GetString(2), reader.GetBoolean(3)));
            }
        }

        if (rows.Count == 0)
        {
            var key = KeyRing.NewDataKey();
            var wrapped = await _keyEncryptionKey.WrapAsync(key, cancellationToken).ConfigureAwait(false);
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO encryption_keys (id, wrapped_key, kek_id, is_active, created_at) VALUES (1, $wrapped, $kek_id, 1, $now);
                """;
            insert.Parameters.AddWithValue("$wrapped", wrapped);
            insert.Parameters.AddWithValue("$kek_id", _keyEncryptionKey.Id);
            insert.Parameters.AddWithValue("$now", ToUnixMicroseconds(_timeProvider.GetUtcNow()));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            Log.DataKeyCreated(_logger, 1, _keyEncryptionKey.Id);
            return new KeyRing(new Dictionary<int, byte[]> { [1] = key }, 1);
        }

        return await KeyRing.UnwrapAsync(rows, _keyEncryptionKey, $"'{_options.DatabasePath}'", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<EncryptionKeyInfo>> ListEncryptionKeysAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static async (connection, _, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, is_active, created_at, kek_id FROM encryption_keys ORDER BY id DESC;";
            IReadOnlyList<EncryptionKeyInfo> keys = await ReadAllAsync(
                command,
                static r => new EncryptionKeyInfo(r.GetInt32(0), r.GetBoolean(1), FromUnixMicroseconds(r.GetInt64(2)), r.GetString(3)),
                4,
                cancellationToken).ConfigureAwait(false);
            return keys;
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<KeyRotationResult> RotateEncryptionKeyAsync(Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!await _rotationLock.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw new KeelException(KeelError.RotationInProgress, "A key rotation is already running; try again when it has finished.");
        }

        try
        {
            var key = KeyRing.NewDataKey();
            var wrapped = await _keyEncryptionKey.WrapAsync(key, cancellationToken).ConfigureAwait(false);
            var activeId = await RunLockedAsync((key, wrapped, actor), static async (store, writer, state, cancellationToken) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                var now = store._timeProvider.GetUtcNow();
                int previous, next;
                using (var transaction = writer.Begin())
                {
                    using (var select = writer.Command("SELECT id FROM encryption_keys WHERE is_active = 1;"))
                    {
                        previous = Convert.ToInt32(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                    }

                    using (var max = writer.Command("SELECT MAX(id) + 1 FROM encryption_keys;"))
                    {
                        next = Convert.ToInt32(await max.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                    }

                    using (var insert = writer.Command("""
                        UPDATE encryption_keys SET is_active = 0 WHERE is_active = 1;
                        INSERT INTO encryption_keys (id, wrapped_key, kek_id, is_active, created_at) VALUES ($id, $wrapped, $kek_id, 1, $now);
                        """))
                    {
                        insert.Parameters.AddWithValue("$id", next);
                        insert.Parameters.AddWithValue("$wrapped", state.wrapped);
                        insert.Parameters.AddWithValue("$kek_id", store._keyEncryptionKey.Id);
                        insert.Parameters.AddWithValue("$now", ToUnixMicroseconds(now));
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    writer.Audit(state.actor, WireNames.AuditActions.KeyRotate, next.ToString(CultureInfo.InvariantCulture), now, fromVersion: previous, toVersion: next);
                    await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                }

                // Only once the key is durable may a value be encrypted with it; the write lock keeps every writer out until then.
                store._ring = store._ring!.WithActive(next, state.key);
                Log.DataKeyCreated(store._logger, next, store._keyEncryptionKey.Id);
                return next;
            }, cancellationToken).ConfigureAwait(false);

            var (values, skippedValues) = await ReencryptAsync(
                activeId,
                """
                SELECT c.id, 0, c.service_name, c.environment, c.config_key, c.version, c.value FROM configs c
                WHERE c.key_id IS NOT NULL AND c.key_id <> $active AND c.id > $after_row
                ORDER BY c.id LIMIT $limit;
                """,
                "UPDATE configs SET value = $value, key_id = $key_id WHERE id = $row;",
                cancellationToken).ConfigureAwait(false);
            var (versions, skippedVersions) = await ReencryptAsync(
                activeId,
                """
                SELECT v.config_id, v.version, c.service_name, c.environment, c.config_key, v.version, v.value
                FROM config_versions v JOIN configs c ON c.id = v.config_id
                WHERE v.key_id IS NOT NULL AND v.key_id <> $active AND (v.config_id, v.version) > ($after_row, $after_version)
                ORDER BY v.config_id, v.version LIMIT $limit;
                """,
                "UPDATE config_versions SET value = $value, key_id = $key_id WHERE config_id = $row AND version = $version;",
                cancellationToken).ConfigureAwait(false);

            var retired = await RunLockedAsync(activeId, static async (store, writer, activeId, cancellationToken) =>
            {
                List<int> ids = [];
                using var transaction = writer.Begin();

                // Webhook secrets are few: they are re-encrypted in the transaction that retires the keys.
                List<(string Id, string Secret)> secrets = [];
                using (var select = writer.Command("SELECT id, secret FROM webhook_subscriptions WHERE key_id <> $active;"))
                {
                    select.Parameters.AddWithValue("$active", activeId);
                    using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        secrets.Add((reader.GetString(0), reader.GetString(1)));
                    }
                }

                using (var update = writer.Command("UPDATE webhook_subscriptions SET secret = $secret, key_id = $active WHERE id = $id;"))
                {
                    var secret = update.Parameters.Add("$secret", SqliteType.Text);
                    update.Parameters.AddWithValue("$active", activeId);
                    var id = update.Parameters.Add("$id", SqliteType.Text);
                    foreach (var s in secrets)
                    {
                        if (writer.Ring.ReencryptSecret(WebhookSecretPurpose, s.Id, s.Secret) is { } envelope)
                        {
                            secret.Value = envelope;
                            id.Value = s.Id;
                            await update.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                        }
                    }
                }

                using (var delete = writer.Command("""
                    DELETE FROM encryption_keys
                    WHERE is_active = 0
                      AND id NOT IN (SELECT key_id FROM configs WHERE key_id IS NOT NULL)
                      AND id NOT IN (SELECT key_id FROM config_versions WHERE key_id IS NOT NULL)
                      AND id NOT IN (SELECT key_id FROM webhook_subscriptions)
                    RETURNING id;
                    """))
                {
                    using var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        ids.Add(reader.GetInt32(0));
                    }
                }

                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);

                // The ring keeps retired keys for the process's lifetime: a read that took its snapshot before the last batch
                // committed may still hold a value under an old key.
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
        finally
        {
            _rotationLock.Release();
        }
    }

    /// <summary>Re-encrypts, batch by batch, each in its own short transaction, the rows that <paramref name="selectSql"/> finds.</summary>
    async Task<(long Done, long Skipped)> ReencryptAsync(int activeId, string selectSql, string updateSql, CancellationToken cancellationToken)
    {
        long done = 0, skipped = 0, afterRow = 0, afterVersion = 0;
        while (true)
        {
            var batch = await RunLockedAsync(
                (activeId, selectSql, updateSql, afterRow, afterVersion),
                static async (store, writer, state, cancellationToken) =>
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    List<(long Row, long Version, ConfigId Id, long ValueVersion, string Value)> rows = [];
                    using var transaction = writer.Begin();
                    using (var select = writer.Command(state.selectSql))
                    {
                        select.Parameters.AddWithValue("$active", state.activeId);
                        select.Parameters.AddWithValue("$after_row", state.afterRow);
                        select.Parameters.AddWithValue("$after_version", state.afterVersion);
                        select.Parameters.AddWithValue("$limit", RotationBatchSize);
                        using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            rows.Add((
                                reader.GetInt64(0),
                                reader.GetInt64(1),
                                new ConfigId(reader.GetString(2), reader.GetString(3), reader.GetString(4)),
                                reader.GetInt64(5),
                                reader.GetString(6)));
                        }
                    }

                    var skipped = 0;
                    using (var update = writer.Command(state.updateSql))
                    {
                        var value = update.Parameters.Add("$value", SqliteType.Text);
                        update.Parameters.AddWithValue("$key_id", state.activeId);
                        var row = update.Parameters.Add("$row", SqliteType.Integer);
                        var version = update.Parameters.Add("$version", SqliteType.Integer);
                        foreach (var r in rows)
                        {
                            var envelope = writer.Ring.Reencrypt(r.Id, r.ValueVersion, r.Value);
                            if (envelope is null)
                            {
                                skipped++;
                                continue;
                            }

                            value.Value = envelope;
                            row.Value = r.Row;
                            version.Value = r.Version;
                            await update.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                        }
                    }

                    await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                    return (Count: rows.Count, Skipped: skipped, Last: rows.Count == 0 ? default : (rows[^1].Row, rows[^1].Version));
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

    ConfigEntry Reveal(ConfigEntry entry) =>
        !entry.IsEncrypted ? entry
        : TryDecrypt(entry.Id, entry.Version, entry.Value, out var plaintext) ? entry with { Value = plaintext }
        : entry with { Value = string.Empty, DecryptionFailed = true };

    ConfigVersion Reveal(ConfigId id, ConfigVersion version) =>
        !version.IsEncrypted || version.Value is null ? version
        : TryDecrypt(id, version.Version, version.Value, out var plaintext) ? version with { Value = plaintext }
        : version with { Value = string.Empty, DecryptionFailed = true };

    /// <summary>Decrypts a stored envelope, logging (never the value) when it fails.</summary>
    bool TryDecrypt(ConfigId id, long version, string envelope, out string plaintext)
    {
        var status = _ring!.TryDecrypt(id, version, envelope, out var decrypted);
        if (status == DecryptionStatus.Ok)
        {
            plaintext = decrypted!;
            return true;
        }

        Log.DecryptionFailed(_logger, id.ServiceName, id.Environment, id.Key, version, status);
        plaintext = string.Empty;
        return false;
    }
}
