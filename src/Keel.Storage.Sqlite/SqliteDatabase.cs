// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Storage.Relational;
using Keel.Storage.Relational.Encryption;
using Keel.Storage.Relational.Migrations;
using Keel.Storage.Sqlite.Migrations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

/// <summary>
/// One SQLite database file: pooled read-only connections for reads, which never wait for the writer, and one writer
/// connection that runs one transaction at a time under a lock and keeps its statements prepared.
/// </summary>
sealed class SqliteDatabase : RelationalDatabase, IStoreBackup
{
    readonly SqliteStoreOptions _options;
    readonly string _readConnectionString;
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA2213:Disposable fields should be disposed",
        Justification = "Disposing it could strand a caller already waiting; it holds no wait handle, so it owns nothing to release.")]
    readonly SemaphoreSlim _writeLock = new(1, 1);
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA2213:Disposable fields should be disposed",
        Justification = "It holds no wait handle, so it owns nothing to release.")]
    readonly SemaphoreSlim _rotationLock = new(1, 1);
    readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    readonly GroupCommit<SqliteWriteTransaction> _groupCommit;
    SqliteConnection? _writer;
    bool _disposed;

    public SqliteDatabase(SqliteStoreOptions options, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger logger)
        : base(SqliteDialect.Instance, keyEncryptionKey, timeProvider, logger)
    {
        _options = options;
        _groupCommit = new GroupCommit<SqliteWriteTransaction>(options.MaxGroupCommitChanges, CommitGroupAsync, RaiseCommitted);
        _readConnectionString = ConnectionString(SqliteOpenMode.ReadOnly, pooling: true);
    }

    public override string Name => $"'{_options.DatabasePath}'";

    /// <inheritdoc/>
    public override long CommittedTransactions => _groupCommit.Transactions;

    /// <summary>Set by a change that overwrote plaintext; the commit then checkpoints the write-ahead log.</summary>
    public bool PlaintextOverwritten { get; set; }

    public override async Task InitializeAsync(CancellationToken cancellationToken)
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
                SqliteFiles.Protect(_options.DatabasePath, Logger);
            }

            SqliteConnection? connection = new(ConnectionString(SqliteOpenMode.ReadWriteCreate, pooling: false));
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                var session = new Session(connection, null, Dialect);
                using (var wal = session.Sql("PRAGMA journal_mode = WAL;"))
                {
                    var mode = (await wal.RowsAsync(static (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false))[0];
                    if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new InvalidOperationException(
                            $"SQLite refused WAL mode for {Name} (journal mode is '{mode}'); is it on a network file system?");
                    }
                }

                // temp_store: a grouped change's savepoint keeps the page images that undoing it would restore in a statement
                // journal, which SQLite would otherwise write to a file in the system's temporary folder, outside the data folder
                // and its modes, with two writes a page.
                using (var pragmas = session.Sql("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;"))
                {
                    await pragmas.ExecuteAsync(cancellationToken).ConfigureAwait(false);
                }

                // Migration 5 folds the keys written before it the same way writers fold new ones.
                connection.CreateFunction("keel_fold", (string key) => ConfigSearch.Fold(key), isDeterministic: true);
                var schemaVersion = await MigrationRunner.RunAsync(session, SqliteMigrations.All, this, cancellationToken).ConfigureAwait(false);
                await KeyTable.EnsureFirstKeyAsync(session, this, cancellationToken).ConfigureAwait(false);
                Ring = await KeyTable.LoadRingAsync(session, this, cancellationToken).ConfigureAwait(false);
                await KeyTable.RewrapAsync(session, this, Ring, cancellationToken).ConfigureAwait(false);
                (_writer, connection) = (connection, null);
                Log.Opened(Logger, _options.DatabasePath, schemaVersion);
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

    public override async Task<T> ReadAsync<TState, T>(
        TState state, Func<Session, TState, CancellationToken, Task<T>> read, CancellationToken cancellationToken, bool snapshot = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = new SqliteConnection(_readConnectionString);
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

                // A deferred transaction reads one WAL snapshot for all its statements.
                using var transaction = snapshot ? connection.BeginTransaction(deferred: true) : null;
                return await read(new Session(connection, transaction, Dialect), state, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SqliteException e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
    }

    public override Task<T> WriteAsync<TState, T>(
        TState state, Func<WriteTransaction, TState, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        TransactAsync(state, work, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> with the writer in a <c>BEGIN IMMEDIATE</c> transaction, under the write lock, which it may share
    /// with other changes queued meanwhile (<see cref="GroupCommit{TWrite}"/>); it returns once that transaction has committed.
    /// </summary>
    public Task<T> TransactAsync<TState, T>(
        TState state, Func<SqliteWriteTransaction, TState, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _groupCommit.RunAsync(state, work, cancellationToken);
    }

    /// <summary>
    /// Runs queued changes in one <c>BEGIN IMMEDIATE</c> transaction under the write lock and commits it, and returns those that
    /// committed (<see cref="GroupCommit{TWrite}.RunEachAsync"/>); a failure of the transaction itself (the disk, the commit)
    /// fails every change in it.
    /// </summary>
    async Task<List<GroupCommit<SqliteWriteTransaction>.Pending>> CommitGroupAsync(List<GroupCommit<SqliteWriteTransaction>.Pending> batch)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var connection = _writer ?? throw new InvalidOperationException("The store is not initialized.");
            List<GroupCommit<SqliteWriteTransaction>.Pending> committed;

            // BEGIN IMMEDIATE: the write lock is taken up front, so no statement in the transaction can fail for want of it.
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                // A failure of the machine may have ended the transaction itself, and fails every change in it.
                committed = await GroupCommit<SqliteWriteTransaction>.RunEachAsync(
                    batch,
                    () => new SqliteWriteTransaction(this, connection, transaction, Ring, Time.GetUtcNow()),
                    static e => e is SqliteException sqlite && IsUnavailable(sqlite)).ConfigureAwait(false);
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            if (PlaintextOverwritten)
            {
                // The old page images must not linger in the write-ahead log. A reader holding an old snapshot can make it a
                // partial checkpoint; the next one finishes.
                PlaintextOverwritten = false;
                using var checkpoint = new Session(connection, null, Dialect).Sql("PRAGMA wal_checkpoint(TRUNCATE);");
                await checkpoint.ExecuteAsync(CancellationToken.None).ConfigureAwait(false);
            }


            return committed;
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

    /// <summary>The writer's command for <paramref name="sql"/>, prepared once and kept for the connection's life; under the write lock.</summary>
    public SqliteCommand Prepared(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var command))
        {
            command = _writer!.CreateCommand();
            command.CommandText = sql;
            _prepared.Add(sql, command);
        }

        return command;
    }

    public override async Task<IAsyncDisposable> LockRotationAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!await _rotationLock.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw new KeelException(KeelError.RotationInProgress, "A key rotation is already running; try again when it has finished.");
        }

        return new Releaser(_rotationLock);
    }

    /// <summary>The writer connection's journal mode and synchronous level, as SQLite reports them.</summary>
    public Task BackupAsync(string destinationPath, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return SqliteBackup.CopyAsync(_options.DatabasePath, destinationPath, cancellationToken);
    }

    public Task<(string JournalMode, long Synchronous)> GetDurabilitySettingsAsync() =>
        TransactAsync(0, static async (write, _, cancellationToken) =>
        {
            using var journal = write.Sql("PRAGMA journal_mode;");
            using var synchronous = write.Sql("PRAGMA synchronous;");
            var mode = (await journal.RowsAsync(static (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false))[0];
            return (mode, await synchronous.Int64Async(cancellationToken).ConfigureAwait(false));
        }, CancellationToken.None);

    /// <summary>Waits for the change in progress, if any, then closes every connection; later calls fail.</summary>
    public override async ValueTask DisposeAsync()
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

            foreach (var command in _prepared.Values)
            {
                await command.DisposeAsync().ConfigureAwait(false);
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

    string ConnectionString(SqliteOpenMode mode, bool pooling) => new SqliteConnectionStringBuilder
    {
        DataSource = _options.DatabasePath,
        Mode = mode,
        Pooling = pooling,
        DefaultTimeout = (int)Math.Ceiling(_options.BusyTimeout.TotalSeconds),
    }.ToString();

    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN: conditions of the
    // machine, not of the request, that can clear without any change to Keel.
    static bool IsUnavailable(SqliteException e) => e.SqliteErrorCode is 5 or 6 or 7 or 8 or 10 or 13 or 14;

    static StoreUnavailableException Unavailable(SqliteException e) =>
        new($"The SQLite database cannot be used right now (SQLite error {e.SqliteErrorCode}, extended {e.SqliteExtendedErrorCode}).", e);

    sealed class Releaser(SemaphoreSlim semaphore) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            semaphore.Release();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>A transaction of the SQLite writer, whose statements it keeps prepared.</summary>
sealed class SqliteWriteTransaction(SqliteDatabase db, SqliteConnection connection, SqliteTransaction transaction, KeyRing ring, DateTimeOffset now)
    : WriteTransaction(connection, transaction, SqliteDialect.Instance, ring, now)
{
    public SqliteDatabase Database { get; } = db;

    public override Sql Prepared(string text) => new(Database.Prepared(text), Transaction!, Dialect);
}
