// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text;
using System.Text.Json;
using Keel.Core.Audit;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Storage.Sqlite.Migrations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

/// <summary>
/// An <see cref="IConfigStore"/> on one SQLite database file.
/// </summary>
/// <remarks>
/// <para>
/// The database runs in WAL mode with <c>synchronous=FULL</c>: a commit returns only after the write-ahead log is fsynced, so an
/// acknowledged change survives a crash or power loss. Readers use pooled read-only connections and never wait for the writer.
/// </para>
/// <para>
/// All changes go through one writer connection, one transaction at a time (<c>BEGIN IMMEDIATE</c>), so changes to a key are
/// serialized, each takes the next revision in commit order, and no writer ever meets <c>SQLITE_BUSY</c> from another writer of
/// this process. The writer keeps its statements prepared. Each change appends, in its own transaction, its audit record, its
/// change feed row and a webhook delivery for every subscription it matches (the outbox).
/// </para>
/// <para>
/// Encrypted values are stored only as <see cref="KeyRing"/> envelopes; reads return them decrypted. <c>secure_delete</c> is
/// on, so a plaintext version overwritten when its key becomes encrypted is zeroed in the database file, not merely unlinked.
/// </para>
/// <para>
/// On Unix the database, its write-ahead log and its shared-memory file are owner-only (0600), whatever the umask and the
/// modes an existing database had.
/// </para>
/// </remarks>
public sealed partial class SqliteConfigStore
    : IConfigStore, IChangeFeedStore, IWebhookStore, ITokenStore, IAuditStore, IEncryptionKeyStore, ISchemaStore, IAsyncDisposable
{
    const string EntryColumns =
        "service_name, environment, config_key, version, value, value_type, is_encrypted, created_at, updated_at, updated_by, revision";

    const string VersionColumns =
        "version, value, value_type, is_encrypted, change_type, change_description, created_at, created_by, revision";

    readonly SqliteConfigStoreOptions _options;
    readonly IKeyEncryptionKey _keyEncryptionKey;
    readonly TimeProvider _timeProvider;
    readonly ILogger _logger;
    readonly string _readConnectionString;
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA2213:Disposable fields should be disposed",
        Justification = "Disposing it could strand a caller already waiting; it holds no wait handle, so it owns nothing to release.")]
    readonly SemaphoreSlim _writeLock = new(1, 1);
    Writer? _writer;
    volatile KeyRing? _ring;
    bool _disposed;

    /// <summary>Creates a store on <see cref="SqliteConfigStoreOptions.DatabasePath"/>; call <see cref="InitializeAsync"/> before use.</summary>
    /// <param name="options">Where the database is and how it is opened.</param>
    /// <param name="keyEncryptionKey">The key that wraps the data keys stored in the database.</param>
    /// <param name="timeProvider">The clock that stamps changes.</param>
    /// <param name="logger">Where the store logs schema changes.</param>
    public SqliteConfigStore(
        SqliteConfigStoreOptions options, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger<SqliteConfigStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keyEncryptionKey);
        ArgumentException.ThrowIfNullOrEmpty(options.DatabasePath);
        _options = options;
        _keyEncryptionKey = keyEncryptionKey;
        _timeProvider = timeProvider;
        _logger = logger;
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <inheritdoc/>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return;
            }

            if (!OperatingSystem.IsWindows())
            {
                ProtectFiles();
            }

            SqliteConnection? connection = new(new SqliteConnectionStringBuilder
            {
                DataSource = _options.DatabasePath,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
                DefaultTimeout = (int)Math.Ceiling(_options.BusyTimeout.TotalSeconds),
            }.ToString());
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                var journalMode = Execute(connection, "PRAGMA journal_mode = WAL;") as string;
                if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"SQLite refused WAL mode for '{_options.DatabasePath}' (journal mode is '{journalMode}'); is it on a network file system?");
                }

                Execute(connection, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;");

                // Migration 5 folds the keys written before it the same way writers fold new ones.
                connection.CreateFunction("keel_fold", (string key) => ConfigSearch.Fold(key), isDeterministic: true);
                var schemaVersion = Migrate(connection);
                _ring = await LoadKeyRingAsync(connection, cancellationToken).ConfigureAwait(false);
                _writer = new Writer(connection);
                connection = null;
                Log.Opened(_logger, _options.DatabasePath, schemaVersion);
            }
            finally
            {
                connection?.Dispose();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    int Migrate(SqliteConnection connection)
    {
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS keel_schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            );
            """);
        var current = (int)(long)Execute(connection, "SELECT COALESCE(MAX(version), 0) FROM keel_schema_migrations;")!;
        var latest = SqliteMigrations.All[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"The database '{_options.DatabasePath}' is at schema version {current}, newer than this Keel knows ({latest}). Run a newer Keel.");
        }

        foreach (var (version, name, sql) in SqliteMigrations.All)
        {
            if (version <= current)
            {
                continue;
            }

            using var transaction = connection.BeginTransaction();
            Execute(connection, sql, transaction);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO keel_schema_migrations (version, name, applied_at) VALUES ($version, $name, $applied_at);";
            record.Parameters.AddWithValue("$version", version);
            record.Parameters.AddWithValue("$name", name);
            record.Parameters.AddWithValue("$applied_at", ToUnixMicroseconds(_timeProvider.GetUtcNow()));
            record.ExecuteNonQuery();
            transaction.Commit();
            Log.MigrationApplied(_logger, version, name);
            current = version;
        }

        return current;
    }

    static object? Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <inheritdoc/>
    public async ValueTask<ConfigEntry?> GetAsync(ConfigId id, CancellationToken cancellationToken) =>
        await ReadAsync(id, static async (connection, id, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = $service_name AND environment = $environment AND config_key = $config_key AND is_deleted = 0;
                """;
            AddId(command, id);
            var rows = await ReadAllAsync(command, ReadEntry, 1, cancellationToken).ConfigureAwait(false);
            return rows.Count == 0 ? null : rows[0];
        }, cancellationToken).ConfigureAwait(false) is { } entry ? Reveal(entry) : null;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigEntry>> GetManyAsync(
        string serviceName, string environment, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        var entries = await ReadAsync((serviceName, environment, keys), static async (connection, state, cancellationToken) =>
        {
            using var command = connection.CreateCommand();

            // One JSON array parameter instead of one parameter per key keeps the statement text constant and clear of SQLite's
            // host-parameter limit.
            command.CommandText = $"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = $service_name AND environment = $environment AND is_deleted = 0
                  AND config_key IN (SELECT value FROM json_each($keys));
                """;
            command.Parameters.AddWithValue("$service_name", state.serviceName);
            command.Parameters.AddWithValue("$environment", state.environment);
            command.Parameters.AddWithValue("$keys", ToJsonArray(state.keys));
            return await ReadAllAsync(command, ReadEntry, state.keys.Count, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return entries.ConvertAll(Reveal);
    }

    /// <inheritdoc/>
    public async Task<ConfigSnapshot> ListAsync(string serviceName, string environment, CancellationToken cancellationToken)
    {
        var snapshot = await ReadAsync((serviceName, environment), static async (connection, scope, cancellationToken) =>
        {
            // The statements read one WAL snapshot, so the revisions are exactly the ones the entries are at.
            using var transaction = connection.BeginTransaction(deferred: true);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT revision FROM keel_revision WHERE id = 1;";
            var revision = await ExecuteInt64Async(command, cancellationToken).ConfigureAwait(false);

            command.CommandText = LastChangeRevisionSql;
            command.Parameters.AddWithValue("$service_name", scope.serviceName);
            command.Parameters.AddWithValue("$environment", scope.environment);
            var lastChangeRevision = await ExecuteInt64Async(command, cancellationToken).ConfigureAwait(false);

            command.CommandText = $"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = $service_name AND environment = $environment AND is_deleted = 0
                ORDER BY config_key;
                """;
            var entries = await ReadAllAsync(command, ReadEntry, 16, cancellationToken).ConfigureAwait(false);
            return new ConfigSnapshot { Revision = revision, LastChangeRevision = lastChangeRevision, Entries = entries };
        }, cancellationToken).ConfigureAwait(false);
        return new ConfigSnapshot
        {
            Revision = snapshot.Revision,
            LastChangeRevision = snapshot.LastChangeRevision,
            Entries = snapshot.Entries.Select(Reveal).ToList(),
        };
    }

    /// <inheritdoc/>
    public Task<long> GetLastRevisionAsync(string serviceName, string environment, CancellationToken cancellationToken) =>
        ReadAsync((serviceName, environment), static async (connection, scope, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = LastChangeRevisionSql;
            command.Parameters.AddWithValue("$service_name", scope.serviceName);
            command.Parameters.AddWithValue("$environment", scope.environment);
            return await ExecuteInt64Async(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<long> GetRevisionAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static async (connection, _, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT revision FROM keel_revision WHERE id = 1;";
            return await ExecuteInt64Async(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigVersion>?> GetHistoryAsync(
        ConfigId id, int limit, long? beforeVersion, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var versions = await ReadAsync((id, limit, beforeVersion), static async (connection, query, cancellationToken) =>
        {
            using var transaction = connection.BeginTransaction(deferred: true);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                SELECT id FROM configs WHERE service_name = $service_name AND environment = $environment AND config_key = $config_key;
                """;
            AddId(command, query.id);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long configId)
            {
                return null;
            }

            command.Parameters.Clear();
            command.CommandText = $"""
                SELECT {VersionColumns} FROM config_versions
                WHERE config_id = $config_id AND version < $before_version
                ORDER BY version DESC LIMIT $limit;
                """;
            command.Parameters.AddWithValue("$config_id", configId);
            command.Parameters.AddWithValue("$before_version", query.beforeVersion ?? long.MaxValue);
            command.Parameters.AddWithValue("$limit", query.limit);
            return await ReadAllAsync(command, ReadVersion, Math.Min(query.limit, 64), cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return versions?.ConvertAll(v => Reveal(id, v));
    }

    /// <inheritdoc/>
    public Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WriteAsync(request, static (writer, request, now) =>
        {
            var current = writer.SelectCurrent(request.Id);
            var (changeType, encrypt) = ConfigWrites.PlanSet(request, current?.LiveVersion, current?.IsLiveEncrypted ?? false);
            return writer.Apply(
                request.Id, current, changeType, request.Value, request.ValueType, encrypt, request.ChangeDescription, request.Actor, now);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WriteAsync(request, static (writer, request, now) =>
        {
            var current = writer.SelectCurrent(request.Id);
            ConfigWrites.CheckDelete(request, current?.LiveVersion);
            return writer.Apply(request.Id, current, ChangeType.Delete, null, null, encrypt: false, request.ChangeDescription, request.Actor, now);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WriteAsync(request, static (writer, request, now) =>
        {
            var current = writer.SelectCurrent(request.Id);
            var target = current is null ? null : writer.SelectVersion(current.RowId, request.TargetVersion);
            ConfigWrites.CheckRollback(request, current is not null, target?.ChangeType, current?.LiveVersion);
            var value = target!.Value;
            if (target.IsEncrypted && writer.Ring.TryDecrypt(request.Id, request.TargetVersion, value!, out value) != DecryptionStatus.Ok)
            {
                throw ConfigWrites.RollbackTargetUndecryptable(request);
            }

            return writer.Apply(
                request.Id,
                current!,
                ChangeType.Rollback,
                value,
                target.ValueType,
                target.IsEncrypted || current!.IsLiveEncrypted,
                ConfigWrites.RollbackDescription(request),
                request.Actor,
                now);
        }, cancellationToken);
    }

    const string LastChangeRevisionSql =
        "SELECT coalesce(max(revision), 0) FROM configs WHERE service_name = $service_name AND environment = $environment;";

    /// <inheritdoc/>
    public Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WriteAsync(request, static (writer, request, now) =>
        {
            if (request.UnchangedSince is not null)
            {
                ConfigWrites.CheckUnchangedSince(request, writer.SelectLastChangeRevision(request.ServiceName, request.Environment));
            }

            var ids = request.Items.Select(i => new ConfigId(request.ServiceName, request.Environment, i.Key)).ToArray();
            var current = Array.ConvertAll(ids, writer.SelectCurrent);
            var plans = ConfigWrites.PlanChangeSet(request, i => (current[i]?.LiveVersion, current[i]?.IsLiveEncrypted ?? false));
            if (plans.Length == 0)
            {
                return new ChangeSetResult { Changes = [] };
            }

            var revision = writer.TakeRevision();
            var changes = new ConfigChange[plans.Length];
            for (var i = 0; i < plans.Length; i++)
            {
                var item = request.Items[i];
                changes[i] = writer.Apply(
                    ids[i], current[i], plans[i].ChangeType, item.Value, item.ValueType, plans[i].Encrypt, request.ChangeDescription,
                    request.Actor, now, revision, i);
            }

            return new ChangeSetResult { Revision = revision, Changes = changes };
        }, cancellationToken);
    }

    Task<TResult> WriteAsync<TRequest, TResult>(
        TRequest request, Func<Writer, TRequest, DateTimeOffset, TResult> change, CancellationToken cancellationToken) =>
        RunLockedAsync((request, change), static async (store, writer, state, cancellationToken) =>
        {
            // The last point where cancellation is honoured: once the transaction begins it runs to commit or rollback without
            // waiting on anything but the disk.
            cancellationToken.ThrowIfCancellationRequested();
            TResult result;
            using (var transaction = writer.Begin())
            {
                result = state.change(writer, state.request, TruncateToMicroseconds(store._timeProvider.GetUtcNow()));
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            writer.CheckpointIfPlaintextOverwritten();
            if (writer.TakeCommittedRevision() is { } revision)
            {
                store.Committed?.Invoke(revision);
            }

            return result;
        }, cancellationToken);

    /// <summary>Runs <paramref name="work"/> with the writer, under the write lock, reporting a failing database as unavailable.</summary>
    async Task<TResult> RunLockedAsync<TState, TResult>(
        TState state, Func<SqliteConfigStore, Writer, TState, CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = _writer ?? throw new InvalidOperationException("The store is not initialized.");
            writer.Ring = _ring!;
            return await work(this, writer, state, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The writer connection's journal mode and synchronous level, as SQLite reports them.</summary>
    internal async Task<(string JournalMode, long Synchronous)> GetDurabilitySettingsAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var connection = _writer?.Connection ?? throw new InvalidOperationException("The store is not initialized.");
            return ((string)Execute(connection, "PRAGMA journal_mode;")!, (long)Execute(connection, "PRAGMA synchronous;")!);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Waits for the change in progress, if any, then closes every connection; later calls fail.</summary>
    public async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;

            // Readers close first: the last connection to close checkpoints the WAL into the database file and removes it, and
            // only the writer may do that.
            using (var reader = new SqliteConnection(_readConnectionString))
            {
                SqliteConnection.ClearPool(reader);
            }

            if (_writer is not null)
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
                _writer = null;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs a read on a pooled read-only connection, reporting a locked, failing or missing database as unavailable.</summary>
    async Task<T> ReadAsync<T, TState>(
        TState state, Func<SqliteConnection, TState, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = new SqliteConnection(_readConnectionString);
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return await read(connection, state, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SqliteException e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
    }

    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN: conditions of the
    // machine, not of the request, that can clear without any change to Keel.
    static bool IsUnavailable(SqliteException e) => e.SqliteErrorCode is 5 or 6 or 7 or 8 or 10 or 13 or 14;

    static StoreUnavailableException Unavailable(SqliteException e) =>
        new($"The SQLite database cannot be used right now (SQLite error {e.SqliteErrorCode}, extended {e.SqliteExtendedErrorCode}).", e);

    static async Task<List<T>> ReadAllAsync<T>(
        SqliteCommand command, Func<SqliteDataReader, T> read, int capacity, CancellationToken cancellationToken)
    {
        var rows = new List<T>(capacity);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(read(reader));
            }
        }

        return rows;
    }

    // SQLite hands back every integer as a 64-bit integer.
    static async Task<long> ExecuteInt64Async(SqliteCommand command, CancellationToken cancellationToken) =>
        (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;

    static void AddId(SqliteCommand command, ConfigId id)
    {
        command.Parameters.AddWithValue("$service_name", id.ServiceName);
        command.Parameters.AddWithValue("$environment", id.Environment);
        command.Parameters.AddWithValue("$config_key", id.Key);
    }

    static string ToJsonArray(IReadOnlyCollection<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var value in values)
            {
                json.WriteStringValue(value);
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    static ConfigEntry ReadEntry(SqliteDataReader reader) => new()
    {
        Id = new ConfigId(reader.GetString(0), reader.GetString(1), reader.GetString(2)),
        Version = reader.GetInt64(3),
        Value = reader.GetString(4),
        ValueType = ConfigValueTypes.ParseStored(reader.GetString(5)),
        IsEncrypted = reader.GetBoolean(6),
        CreatedAt = FromUnixMicroseconds(reader.GetInt64(7)),
        UpdatedAt = FromUnixMicroseconds(reader.GetInt64(8)),
        UpdatedBy = reader.GetString(9),
        Revision = reader.GetInt64(10),
    };

    static ConfigVersion ReadVersion(SqliteDataReader reader) => new()
    {
        Version = reader.GetInt64(0),
        Value = reader.IsDBNull(1) ? null : reader.GetString(1),
        ValueType = reader.IsDBNull(2) ? null : ConfigValueTypes.ParseStored(reader.GetString(2)),
        IsEncrypted = reader.GetBoolean(3),
        ChangeType = ChangeTypes.ParseStored(reader.GetString(4)),
        ChangeDescription = reader.IsDBNull(5) ? null : reader.GetString(5),
        CreatedAt = FromUnixMicroseconds(reader.GetInt64(6)),
        CreatedBy = reader.GetString(7),
        Revision = reader.GetInt64(8),
    };

    static DateTimeOffset TruncateToMicroseconds(DateTimeOffset time) => FromUnixMicroseconds(ToUnixMicroseconds(time));

    static long ToUnixMicroseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    static DateTimeOffset FromUnixMicroseconds(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);

    /// <summary>The key's row as the writer sees it inside its transaction.</summary>
    sealed record CurrentRow(long RowId, long Version, bool IsDeleted, long CreatedAt, bool IsEncrypted)
    {
        public long? LiveVersion => IsDeleted ? null : Version;

        /// <summary>Whether the key is live and encrypted; its whole history then is too.</summary>
        public bool IsLiveEncrypted => !IsDeleted && IsEncrypted;
    }

    sealed record StoredVersion(string? Value, ConfigValueType? ValueType, bool IsEncrypted, ChangeType ChangeType);

    /// <summary>The writer connection and its prepared statements; used only under the write lock.</summary>
    sealed partial class Writer : IAsyncDisposable
    {
        readonly SqliteCommand _selectCurrent;
        readonly SqliteCommand _selectVersion;
        readonly SqliteCommand _nextRevision;
        readonly SqliteCommand _insertConfig;
        readonly SqliteCommand _updateConfig;
        readonly SqliteCommand _insertVersion;
        readonly SqliteCommand _insertAudit;
        readonly SqliteCommand _insertChange;
        readonly SqliteCommand _selectSubscriptions;
        readonly SqliteCommand _insertDelivery;
        bool _plaintextOverwritten;
        long? _revision;

        public SqliteConnection Connection { get; }

        /// <summary>The ring values are encrypted with; set under the write lock before each use.</summary>
        public KeyRing Ring { get; set; } = null!;

        public SqliteTransaction? Transaction { get; private set; }

        public Writer(SqliteConnection connection)
        {
            Connection = connection;
            _selectCurrent = Prepare("""
                SELECT id, version, is_deleted, created_at, is_encrypted FROM configs
                WHERE service_name = $service_name AND environment = $environment AND config_key = $config_key;
                """, "$service_name", "$environment", "$config_key");
            _selectVersion = Prepare("""
                SELECT value, value_type, is_encrypted, change_type FROM config_versions WHERE config_id = $config_id AND version = $version;
                """, "$config_id", "$version");
            _nextRevision = Prepare("UPDATE keel_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision;");
            _insertConfig = Prepare("""
                INSERT INTO configs (service_name, environment, config_key, version, value, value_type, is_encrypted, is_deleted,
                                     created_at, updated_at, updated_by, revision, key_id, search_key)
                VALUES ($service_name, $environment, $config_key, $version, $value, $value_type, $is_encrypted, $is_deleted,
                        $created_at, $updated_at, $updated_by, $revision, $key_id, $search_key)
                RETURNING id;
                """, "$service_name", "$environment", "$config_key", "$version", "$value", "$value_type", "$is_encrypted", "$is_deleted",
                "$created_at", "$updated_at", "$updated_by", "$revision", "$key_id", "$search_key");
            _updateConfig = Prepare("""
                UPDATE configs SET version = $version, value = $value, value_type = $value_type, is_encrypted = $is_encrypted,
                                   is_deleted = $is_deleted, created_at = $created_at, updated_at = $updated_at,
                                   updated_by = $updated_by, revision = $revision, key_id = $key_id
                WHERE id = $id;
                """, "$id", "$version", "$value", "$value_type", "$is_encrypted", "$is_deleted", "$created_at", "$updated_at",
                "$updated_by", "$revision", "$key_id");
            _insertVersion = Prepare("""
                INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, change_description,
                                             created_at, created_by, revision, key_id)
                VALUES ($config_id, $version, $value, $value_type, $is_encrypted, $change_type, $change_description,
                        $created_at, $created_by, $revision, $key_id);
                """, "$config_id", "$version", "$value", "$value_type", "$is_encrypted", "$change_type", "$change_description",
                "$created_at", "$created_by", "$revision", "$key_id");
            _insertAudit = Prepare("""
                INSERT INTO audit_log (occurred_at, actor_token_id, actor_name, client_address, action, service_name, environment,
                                       target, from_version, to_version, revision, request_id)
                VALUES ($occurred_at, $actor_token_id, $actor_name, $client_address, $action, $service_name, $environment,
                        $target, $from_version, $to_version, $revision, $request_id);
                """, "$occurred_at", "$actor_token_id", "$actor_name", "$client_address", "$action", "$service_name", "$environment",
                "$target", "$from_version", "$to_version", "$revision", "$request_id");
            _insertChange = Prepare("""
                INSERT INTO changes (revision, seq, service_name, environment, config_key, version, change_type, changed_at)
                VALUES ($revision, $seq, $service_name, $environment, $config_key, $version, $change_type, $changed_at);
                """, "$revision", "$seq", "$service_name", "$environment", "$config_key", "$version", "$change_type", "$changed_at");
            _selectSubscriptions = Prepare("""
                SELECT id, config_keys FROM webhook_subscriptions WHERE service_name = $service_name AND environment = $environment;
                """, "$service_name", "$environment");
            _insertDelivery = Prepare("""
                INSERT INTO webhook_deliveries (delivery_id, subscription_id, revision, service_name, environment, config_key, version,
                                                change_type, changed_at, status, attempts, next_attempt_at, created_at)
                VALUES ($delivery_id, $subscription_id, $revision, $service_name, $environment, $config_key, $version,
                        $change_type, $changed_at, 'pending', 0, $changed_at, $changed_at);
                """, "$delivery_id", "$subscription_id", "$revision", "$service_name", "$environment", "$config_key", "$version",
                "$change_type", "$changed_at");
        }

        /// <summary>The revision the last committed transaction took, if it took one; cleared by the call.</summary>
        public long? TakeCommittedRevision()
        {
            var revision = _revision;
            _revision = null;
            return revision;
        }

        public SqliteTransaction Begin()
        {
            // BEGIN IMMEDIATE: the write lock is taken up front, so no statement in the transaction can fail for want of it.
            var transaction = Connection.BeginTransaction(deferred: false);
            _selectCurrent.Transaction = transaction;
            _selectVersion.Transaction = transaction;
            _nextRevision.Transaction = transaction;
            _insertConfig.Transaction = transaction;
            _updateConfig.Transaction = transaction;
            _insertVersion.Transaction = transaction;
            _insertAudit.Transaction = transaction;
            _insertChange.Transaction = transaction;
            _selectSubscriptions.Transaction = transaction;
            _insertDelivery.Transaction = transaction;
            Transaction = transaction;
            _revision = null;
            return transaction;
        }

        /// <summary>A command in the current transaction, for statements off the hot path.</summary>
        public SqliteCommand Command(string sql)
        {
            var command = Connection.CreateCommand();
            command.Transaction = Transaction;
            command.CommandText = sql;
            return command;
        }

        /// <summary>Appends an audit record in the current transaction.</summary>
        public void Audit(
            Actor actor,
            string action,
            string target,
            DateTimeOffset now,
            string? serviceName = null,
            string? environment = null,
            long? fromVersion = null,
            long? toVersion = null,
            long? revision = null)
        {
            var p = _insertAudit.Parameters;
            p[0].Value = ToUnixMicroseconds(now);
            p[1].Value = (object?)actor.TokenId ?? DBNull.Value;
            p[2].Value = actor.Name;
            p[3].Value = (object?)actor.ClientAddress ?? DBNull.Value;
            p[4].Value = action;
            p[5].Value = (object?)serviceName ?? DBNull.Value;
            p[6].Value = (object?)environment ?? DBNull.Value;
            p[7].Value = target;
            p[8].Value = (object?)fromVersion ?? DBNull.Value;
            p[9].Value = (object?)toVersion ?? DBNull.Value;
            p[10].Value = (object?)revision ?? DBNull.Value;
            p[11].Value = (object?)actor.RequestId ?? DBNull.Value;
            _insertAudit.ExecuteNonQuery();
        }

        /// <summary>
        /// Encrypts every plaintext version of a key that is becoming encrypted, so that its whole history is; <c>secure_delete</c>
        /// zeroes the old page content, and the next checkpoint clears the write-ahead log of it.
        /// </summary>
        void EncryptHistory(ConfigId id, long rowId)
        {
            List<(long Version, string Value)> plain = [];
            using (var select = Command("""
                SELECT version, value FROM config_versions WHERE config_id = $config_id AND is_encrypted = 0 AND value IS NOT NULL;
                """))
            {
                select.Parameters.AddWithValue("$config_id", rowId);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    plain.Add((reader.GetInt64(0), reader.GetString(1)));
                }
            }

            if (plain.Count == 0)
            {
                return;
            }

            using var update = Command("""
                UPDATE config_versions SET value = $value, is_encrypted = 1, key_id = $key_id WHERE config_id = $config_id AND version = $version;
                """);
            var value = update.Parameters.Add("$value", SqliteType.Text);
            update.Parameters.AddWithValue("$key_id", Ring.ActiveKeyId);
            update.Parameters.AddWithValue("$config_id", rowId);
            var version = update.Parameters.Add("$version", SqliteType.Integer);
            foreach (var (v, text) in plain)
            {
                value.Value = Ring.Encrypt(id, v, text);
                version.Value = v;
                update.ExecuteNonQuery();
            }

            _plaintextOverwritten = true;
        }

        /// <summary>
        /// After a commit that overwrote plaintext, copies the write-ahead log into the database and truncates it, so that the old
        /// page images do not linger there. A reader holding an old snapshot can make it a partial checkpoint; the next one finishes.
        /// </summary>
        public void CheckpointIfPlaintextOverwritten()
        {
            if (!_plaintextOverwritten)
            {
                return;
            }

            _plaintextOverwritten = false;
            Execute(Connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }

        public CurrentRow? SelectCurrent(ConfigId id)
        {
            var p = _selectCurrent.Parameters;
            p[0].Value = id.ServiceName;
            p[1].Value = id.Environment;
            p[2].Value = id.Key;
            using var reader = _selectCurrent.ExecuteReader();
            return reader.Read()
                ? new CurrentRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetBoolean(2), reader.GetInt64(3), reader.GetBoolean(4))
                : null;
        }

        public long SelectLastChangeRevision(string serviceName, string environment)
        {
            using var command = Command(LastChangeRevisionSql);
            command.Parameters.AddWithValue("$service_name", serviceName);
            command.Parameters.AddWithValue("$environment", environment);
            return (long)command.ExecuteScalar()!;
        }

        public StoredVersion? SelectVersion(long rowId, long version)
        {
            var p = _selectVersion.Parameters;
            p[0].Value = rowId;
            p[1].Value = version;
            using var reader = _selectVersion.ExecuteReader();
            return reader.Read()
                ? new StoredVersion(
                    reader.IsDBNull(0) ? null : reader.GetString(0),
                    reader.IsDBNull(1) ? null : ConfigValueTypes.ParseStored(reader.GetString(1)),
                    reader.GetBoolean(2),
                    ChangeTypes.ParseStored(reader.GetString(3)))
                : null;
        }

        /// <summary>Records a change as the key's next version and the store's next revision, with its audit record.</summary>
        public ConfigChange Apply(
            ConfigId id,
            CurrentRow? current,
            ChangeType changeType,
            string? value,
            ConfigValueType? valueType,
            bool encrypt,
            string? changeDescription,
            Actor actor,
            DateTimeOffset now) =>
            Apply(id, current, changeType, value, valueType, encrypt, changeDescription, actor, now, TakeRevision(), seq: 0);

        /// <summary>Takes the store's next revision, for the changes of this transaction.</summary>
        public long TakeRevision()
        {
            var revision = (long)_nextRevision.ExecuteScalar()!;
            _revision = revision;
            return revision;
        }

        /// <summary>Records a change as the key's next version, as change <paramref name="seq"/> of <paramref name="revision"/>.</summary>
        public ConfigChange Apply(
            ConfigId id,
            CurrentRow? current,
            ChangeType changeType,
            string? value,
            ConfigValueType? valueType,
            bool encrypt,
            string? changeDescription,
            Actor actor,
            DateTimeOffset now,
            long revision,
            int seq)
        {
            var version = (current?.Version ?? 0) + 1;
            var isEncrypted = encrypt && value is not null;
            if (isEncrypted && current is { IsLiveEncrypted: false })
            {
                EncryptHistory(id, current.RowId);
            }

            var stored = isEncrypted ? Ring.Encrypt(id, version, value!) : value;
            object keyId = isEncrypted ? Ring.ActiveKeyId : DBNull.Value;
            var nowMicros = ToUnixMicroseconds(now);

            // A key that comes back after a delete (by a write or a rollback) starts a new life.
            var createdAt = current?.LiveVersion is null ? nowMicros : current.CreatedAt;
            var deleted = changeType == ChangeType.Delete;
            var valueTypeName = valueType?.ToWireName();

            long rowId;
            if (current is null)
            {
                var p = _insertConfig.Parameters;
                p[0].Value = id.ServiceName;
                p[1].Value = id.Environment;
                p[2].Value = id.Key;
                p[3].Value = version;
                p[4].Value = (object?)stored ?? DBNull.Value;
                p[5].Value = (object?)valueTypeName ?? DBNull.Value;
                p[6].Value = isEncrypted;
                p[7].Value = deleted;
                p[8].Value = createdAt;
                p[9].Value = nowMicros;
                p[10].Value = actor.Name;
                p[11].Value = revision;
                p[12].Value = keyId;
                p[13].Value = ConfigSearch.Fold(id.Key);
                rowId = (long)_insertConfig.ExecuteScalar()!;
            }
            else
            {
                rowId = current.RowId;
                var p = _updateConfig.Parameters;
                p[0].Value = rowId;
                p[1].Value = version;
                p[2].Value = (object?)stored ?? DBNull.Value;
                p[3].Value = (object?)valueTypeName ?? DBNull.Value;
                p[4].Value = isEncrypted;
                p[5].Value = deleted;
                p[6].Value = createdAt;
                p[7].Value = nowMicros;
                p[8].Value = actor.Name;
                p[9].Value = revision;
                p[10].Value = keyId;
                _updateConfig.ExecuteNonQuery();
            }

            var v = _insertVersion.Parameters;
            v[0].Value = rowId;
            v[1].Value = version;
            v[2].Value = (object?)stored ?? DBNull.Value;
            v[3].Value = (object?)valueTypeName ?? DBNull.Value;
            v[4].Value = isEncrypted;
            v[5].Value = changeType.ToWireName();
            v[6].Value = (object?)changeDescription ?? DBNull.Value;
            v[7].Value = nowMicros;
            v[8].Value = actor.Name;
            v[9].Value = revision;
            v[10].Value = keyId;
            _insertVersion.ExecuteNonQuery();

            Audit(actor, ConfigWrites.AuditAction(changeType), id.Key, now, id.ServiceName, id.Environment, current?.Version, version, revision);
            Publish(new ChangeEvent(revision, id, version, changeType, now), seq);

            return ConfigWrites.Result(
                id, changeType, value, valueType, isEncrypted, version, current?.Version, FromUnixMicroseconds(createdAt), revision, now, actor);
        }

        /// <summary>Appends a change to the feed and to the outbox of every subscription it matches.</summary>
        void Publish(ChangeEvent change, int seq)
        {
            var changedAt = ToUnixMicroseconds(change.Timestamp);
            var changeType = change.ChangeType.ToWireName();
            var c = _insertChange.Parameters;
            c[0].Value = change.Revision;
            c[1].Value = seq;
            c[2].Value = change.Id.ServiceName;
            c[3].Value = change.Id.Environment;
            c[4].Value = change.Id.Key;
            c[5].Value = change.Version;
            c[6].Value = changeType;
            c[7].Value = changedAt;
            _insertChange.ExecuteNonQuery();

            List<string>? matching = null;
            _selectSubscriptions.Parameters[0].Value = change.Id.ServiceName;
            _selectSubscriptions.Parameters[1].Value = change.Id.Environment;
            using (var reader = _selectSubscriptions.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (KeyPatterns.MatchesAny(ParseKeyPatterns(reader.GetString(1)), change.Id.Key))
                    {
                        (matching ??= []).Add(reader.GetString(0));
                    }
                }
            }

            if (matching is null)
            {
                return;
            }

            var d = _insertDelivery.Parameters;
            foreach (var subscriptionId in matching)
            {
                d[0].Value = NewDeliveryId(change.Timestamp);
                d[1].Value = subscriptionId;
                d[2].Value = change.Revision;
                d[3].Value = change.Id.ServiceName;
                d[4].Value = change.Id.Environment;
                d[5].Value = change.Id.Key;
                d[6].Value = change.Version;
                d[7].Value = changeType;
                d[8].Value = changedAt;
                _insertDelivery.ExecuteNonQuery();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _insertChange.Dispose();
            _selectSubscriptions.Dispose();
            _insertDelivery.Dispose();
            _selectCurrent.Dispose();
            _selectVersion.Dispose();
            _nextRevision.Dispose();
            _insertConfig.Dispose();
            _updateConfig.Dispose();
            _insertVersion.Dispose();
            _insertAudit.Dispose();
            await Connection.DisposeAsync().ConfigureAwait(false);
        }

        SqliteCommand Prepare(string sql, params string[] parameters)
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            return command;
        }
    }
}
