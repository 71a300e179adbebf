// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Storage.Postgres.Migrations;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Keel.Storage.Postgres;

/// <summary>
/// An <see cref="IConfigStore"/> on one PostgreSQL database, shared by any number of Keel nodes.
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
/// <para>
/// Each node listens on one connection. A notification raises <see cref="Committed"/>, <see cref="TokensChanged"/> or reloads
/// the key ring; after the listener reconnects, all three fire, because notifications sent while it was away are lost.
/// </para>
/// </remarks>
public sealed partial class PostgresConfigStore
    : IConfigStore, IChangeFeedStore, IWebhookStore, ITokenStore, IAuditStore, IEncryptionKeyStore, ISchemaStore, IAsyncDisposable
{
    const string EntryColumns =
        "service_name, environment, config_key, version, value, value_type, is_encrypted, created_at, updated_at, updated_by, revision";

    const string VersionColumns =
        "version, value, value_type, is_encrypted, change_type, change_description, created_at, created_by, revision";

    /// <summary>The channel every node listens on.</summary>
    const string Channel = "keel_events";

    readonly PostgresConfigStoreOptions _options;
    readonly IKeyEncryptionKey _keyEncryptionKey;
    readonly TimeProvider _timeProvider;
    readonly ILogger _logger;
    readonly NpgsqlDataSource _dataSource;
    readonly CancellationTokenSource _stopping = new();
    volatile KeyRing? _ring;
    Task? _listener;
    int _disposed;

    /// <summary>Creates a store on <see cref="PostgresConfigStoreOptions.ConnectionString"/>; call <see cref="InitializeAsync"/> before use.</summary>
    /// <param name="options">How the database is reached.</param>
    /// <param name="keyEncryptionKey">The key that wraps the data keys stored in the database; every node must use the same.</param>
    /// <param name="timeProvider">The clock that stamps changes.</param>
    /// <param name="logger">Where the store logs schema changes and lost connections.</param>
    public PostgresConfigStore(
        PostgresConfigStoreOptions options, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger<PostgresConfigStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keyEncryptionKey);
        ArgumentException.ThrowIfNullOrEmpty(options.ConnectionString);
        _options = options;
        _keyEncryptionKey = keyEncryptionKey;
        _timeProvider = timeProvider;
        _logger = logger;
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);

        // Every statement here is a constant text: preparing them saves a parse and plan per call.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }

        builder.ConnectionStringBuilder.ApplicationName ??= "keel";
        Database = $"{builder.ConnectionStringBuilder.Host}/{builder.ConnectionStringBuilder.Database}";
        _dataSource = builder.Build();
    }

    /// <summary>The database the store is on, for messages; never the password.</summary>
    string Database { get; }

    /// <inheritdoc/>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_listener is not null)
        {
            return;
        }

        try
        {
            int schemaVersion;
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // Nodes that start together queue here; the first migrates, the others find the schema current.
                    await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(@key);", cancellationToken, ("key", PostgresMigrations.LockKey))
                        .ConfigureAwait(false);
                    schemaVersion = await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
                    await EnsureFirstDataKeyAsync(connection, cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            _ring = await LoadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            Log.Opened(_logger, Database, schemaVersion);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }

        _listener = Task.Run(() => ListenAsync(_stopping.Token), CancellationToken.None);
    }

    async Task<int> MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS keel_schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL
            );
            """, cancellationToken).ConfigureAwait(false);
        var current = (int)(await ScalarAsync<long>(
            connection, "SELECT COALESCE(MAX(version), 0)::bigint FROM keel_schema_migrations;", cancellationToken).ConfigureAwait(false));
        var latest = PostgresMigrations.All[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"The database {Database} is at schema version {current}, newer than this Keel knows ({latest}). Run a newer Keel.");
        }

        foreach (var (version, name, sql) in PostgresMigrations.All)
        {
            if (version <= current)
            {
                continue;
            }

            await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(
                connection,
                "INSERT INTO keel_schema_migrations (version, name, applied_at) VALUES (@version, @name, @applied_at);",
                cancellationToken,
                ("version", version),
                ("name", name),
                ("applied_at", _timeProvider.GetUtcNow())).ConfigureAwait(false);
            Log.MigrationApplied(_logger, version, name);
            current = version;
        }

        return current;
    }

    /// <inheritdoc/>
    public async ValueTask<ConfigEntry?> GetAsync(ConfigId id, CancellationToken cancellationToken)
    {
        var entry = await ReadAsync(id, static async (connection, id, cancellationToken) =>
        {
            using var command = new NpgsqlCommand($"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = @service_name AND environment = @environment AND config_key = @config_key AND NOT is_deleted;
                """, connection);
            AddId(command.Parameters, id);
            var rows = await ReadAllAsync(command, ReadEntry, 1, cancellationToken).ConfigureAwait(false);
            return rows.Count == 0 ? null : rows[0];
        }, cancellationToken).ConfigureAwait(false);
        return entry is null ? null : await RevealAsync(entry, cancellationToken).ConfigureAwait(false);
    }

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
            using var command = new NpgsqlCommand($"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = @service_name AND environment = @environment AND config_key = ANY(@keys) AND NOT is_deleted;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<string>("service_name", state.serviceName));
            command.Parameters.Add(new NpgsqlParameter<string>("environment", state.environment));
            command.Parameters.Add(new NpgsqlParameter<string[]>("keys", [.. state.keys.Distinct(StringComparer.Ordinal)]));
            return await ReadAllAsync(command, ReadEntry, state.keys.Count, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return await RevealAllAsync(entries, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<ConfigSnapshot> ListAsync(string serviceName, string environment, CancellationToken cancellationToken)
    {
        var snapshot = await ReadAsync((serviceName, environment), static async (connection, scope, cancellationToken) =>
        {
            // One snapshot: the revisions are exactly the ones the entries are at.
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                using var command = new NpgsqlCommand($"""
                    SELECT revision, (SELECT COALESCE(MAX(revision), 0) FROM configs
                                      WHERE service_name = @service_name AND environment = @environment)
                    FROM keel_revision WHERE id = 1;
                    """, connection, transaction);
                command.Parameters.Add(new NpgsqlParameter<string>("service_name", scope.serviceName));
                command.Parameters.Add(new NpgsqlParameter<string>("environment", scope.environment));
                var revisions = await ReadAllAsync(command, static r => (r.GetInt64(0), r.GetInt64(1)), 1, cancellationToken).ConfigureAwait(false);
                command.CommandText = $"""
                    SELECT {EntryColumns} FROM configs
                    WHERE service_name = @service_name AND environment = @environment AND NOT is_deleted
                    ORDER BY config_key;
                    """;
                var entries = await ReadAllAsync(command, ReadEntry, 16, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return (Revision: revisions[0].Item1, LastChangeRevision: revisions[0].Item2, Entries: entries);
            }
        }, cancellationToken).ConfigureAwait(false);
        return new ConfigSnapshot
        {
            Revision = snapshot.Revision,
            LastChangeRevision = snapshot.LastChangeRevision,
            Entries = await RevealAllAsync(snapshot.Entries, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <inheritdoc/>
    public Task<long> GetLastRevisionAsync(string serviceName, string environment, CancellationToken cancellationToken) =>
        ReadAsync((serviceName, environment), static (connection, scope, cancellationToken) => ScalarAsync<long>(
            connection,
            LastChangeRevisionSql,
            cancellationToken,
            ("service_name", scope.serviceName),
            ("environment", scope.environment)), cancellationToken);

    /// <inheritdoc/>
    public Task<long> GetRevisionAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static (connection, _, cancellationToken) =>
            ScalarAsync<long>(connection, "SELECT revision FROM keel_revision WHERE id = 1;", cancellationToken), cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigVersion>?> GetHistoryAsync(
        ConfigId id, int limit, long? beforeVersion, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var versions = await ReadAsync((id, limit, beforeVersion), static async (connection, query, cancellationToken) =>
        {
            // The key's row and its versions in one statement, so one snapshot: a missing row means the key never existed.
            using var command = new NpgsqlCommand($"""
                SELECT c.id, v.{VersionColumns.Replace(", ", ", v.", StringComparison.Ordinal)}
                FROM configs c LEFT JOIN LATERAL (
                    SELECT * FROM config_versions WHERE config_id = c.id AND version < @before_version ORDER BY version DESC LIMIT @limit
                ) v ON true
                WHERE c.service_name = @service_name AND c.environment = @environment AND c.config_key = @config_key;
                """, connection);
            AddId(command.Parameters, query.id);
            command.Parameters.Add(new NpgsqlParameter<long>("before_version", query.beforeVersion ?? long.MaxValue));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.limit));
            var rows = await ReadAllAsync(
                command, static r => r.IsDBNull(1) ? null : ReadVersion(r, 1), Math.Min(query.limit, 64), cancellationToken).ConfigureAwait(false);
            return rows.Count == 0 ? null : rows.OfType<ConfigVersion>().ToList();
        }, cancellationToken).ConfigureAwait(false);
        if (versions is null)
        {
            return null;
        }

        var revealed = new List<ConfigVersion>(versions.Count);
        foreach (var version in versions)
        {
            revealed.Add(await RevealAsync(id, version, cancellationToken).ConfigureAwait(false));
        }

        return revealed;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            await _listener.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _dataSource.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Runs a read on a pooled connection, reporting a database that cannot be reached as unavailable.</summary>
    async Task<T> ReadAsync<T, TState>(
        TState state, Func<NpgsqlConnection, TState, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                return await read(connection, state, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
    }

    /// <summary>
    /// Conditions of the database or the network, not of the request, that can clear without any change to Keel: a lost or refused
    /// connection, an exhausted pool, a server shutting down or starting up, a standby that is read-only during a failover.
    /// </summary>
    static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal)
            || p.SqlState.StartsWith("53", StringComparison.Ordinal)
            || p.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || p.SqlState is PostgresErrorCodes.ReadOnlySqlTransaction or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException => true,
        TimeoutException => true,
        _ => false,
    };

    StoreUnavailableException Unavailable(Exception e) =>
        new($"The PostgreSQL database {Database} cannot be used right now ({(e as PostgresException)?.SqlState ?? e.GetType().Name}).", e);

    static async Task<List<T>> ReadAllAsync<T>(
        NpgsqlCommand command, Func<NpgsqlDataReader, T> read, int capacity, CancellationToken cancellationToken)
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

    static async Task ExecuteAsync(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    static async Task<T> ScalarAsync<T>(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(Parameter(name, value));
        }

        return command;
    }

    static void AddId(NpgsqlParameterCollection parameters, ConfigId id)
    {
        parameters.Add(new NpgsqlParameter<string>("service_name", id.ServiceName));
        parameters.Add(new NpgsqlParameter<string>("environment", id.Environment));
        parameters.Add(new NpgsqlParameter<string>("config_key", id.Key));
    }

    static ConfigEntry ReadEntry(NpgsqlDataReader reader) => new()
    {
        Id = new ConfigId(reader.GetString(0), reader.GetString(1), reader.GetString(2)),
        Version = reader.GetInt64(3),
        Value = reader.GetString(4),
        ValueType = ConfigValueTypes.ParseStored(reader.GetString(5)),
        IsEncrypted = reader.GetBoolean(6),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(7),
        UpdatedAt = reader.GetFieldValue<DateTimeOffset>(8),
        UpdatedBy = reader.GetString(9),
        Revision = reader.GetInt64(10),
    };

    static ConfigVersion ReadVersion(NpgsqlDataReader reader, int at) => new()
    {
        Version = reader.GetInt64(at),
        Value = reader.IsDBNull(at + 1) ? null : reader.GetString(at + 1),
        ValueType = reader.IsDBNull(at + 2) ? null : ConfigValueTypes.ParseStored(reader.GetString(at + 2)),
        IsEncrypted = reader.GetBoolean(at + 3),
        ChangeType = ChangeTypes.ParseStored(reader.GetString(at + 4)),
        ChangeDescription = reader.IsDBNull(at + 5) ? null : reader.GetString(at + 5),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(at + 6),
        CreatedBy = reader.GetString(at + 7),
        Revision = reader.GetInt64(at + 8),
    };

    /// <summary>PostgreSQL keeps microseconds: a change's time is cut to them before it is stored and reported.</summary>
    static DateTimeOffset TruncateToMicroseconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    static object Nullable(object? value) => value ?? DBNull.Value;

    /// <summary>A parameter; times go as UTC, the only offset a <c>timestamptz</c> parameter takes.</summary>
    static NpgsqlParameter Parameter(string name, object? value) =>
        new(name, value switch
        {
            null => DBNull.Value,
            DateTimeOffset time => time.ToUniversalTime(),
            _ => value,
        });
}
