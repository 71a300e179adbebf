// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data;
using Keel.Core;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Storage.Postgres.Migrations;
using Keel.Storage.Relational;
using Keel.Storage.Relational.Encryption;
using Keel.Storage.Relational.Migrations;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Keel.Storage.Postgres;

/// <summary>
/// One PostgreSQL database shared by any number of Keel nodes: pooled connections, prepared statements, and one listener
/// connection per node for the other nodes' notifications.
/// </summary>
sealed partial class PostgresDatabase : RelationalDatabase
{
    /// <summary>How many times a change is retried when the key ring it encrypted with turns out to be out of date.</summary>
    const int StaleRingRetries = 3;

    /// <summary>The session advisory lock a rotation holds, so that one runs at a time across all nodes: "keel" + 1.</summary>
    const long RotationLockKey = 0x6B65656C + 1;

    readonly PostgresStoreOptions _options;
    readonly NpgsqlDataSource _dataSource;
    readonly CancellationTokenSource _stopping = new();
    readonly GroupCommit<PostgresWriteTransaction> _groupCommit;
    Task? _listener;
    int _disposed;

    public PostgresDatabase(PostgresStoreOptions options, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger logger)
        : base(PostgresDialect.Instance, keyEncryptionKey, timeProvider, logger)
    {
        _options = options;
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);

        // Every statement here is a constant text: preparing them saves a parse and plan per call.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }

        builder.ConnectionStringBuilder.ApplicationName ??= "keel";
        Name = $"{builder.ConnectionStringBuilder.Host}/{builder.ConnectionStringBuilder.Database}";
        _dataSource = builder.Build();
        _groupCommit = new GroupCommit<PostgresWriteTransaction>(options.MaxGroupCommitChanges, CommitGroupAsync, RaiseCommitted);
    }

    public override string Name { get; }

    /// <inheritdoc/>
    public override long CommittedTransactions => _groupCommit.Transactions;

    public override async Task InitializeAsync(CancellationToken cancellationToken)
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
                    var session = new Session(connection, transaction, Dialect);
                    using (var advisory = session.Sql("SELECT pg_advisory_xact_lock(@key);"))
                    {
                        await advisory.With("key", PostgresMigrations.LockKey).ExecuteAsync(cancellationToken).ConfigureAwait(false);
                    }

                    schemaVersion = await MigrationRunner.RunAsync(session, PostgresMigrations.All, this, cancellationToken).ConfigureAwait(false);
                    await KeyTable.EnsureFirstKeyAsync(session, this, cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            Ring = await ReadAsync(this, static (session, db, cancellationToken) => KeyTable.LoadRingAsync(session, db, cancellationToken), cancellationToken)
                .ConfigureAwait(false);

            // Outside a transaction, so that each data key is wrapped again in a commit of its own.
            await ReadAsync(
                this,
                static async (session, db, cancellationToken) =>
                {
                    await KeyTable.RewrapAsync(session, db, db.Ring, cancellationToken).ConfigureAwait(false);
                    return 0;
                },
                cancellationToken).ConfigureAwait(false);
            Log.Opened(Logger, Name, schemaVersion);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }

        _listener = Task.Run(() => ListenAsync(_stopping.Token), CancellationToken.None);
    }

    public override async Task<T> ReadAsync<TState, T>(
        TState state, Func<Session, TState, CancellationToken, Task<T>> read, CancellationToken cancellationToken, bool snapshot = false)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        for (var attempt = 0; ; attempt++)
        {
            var opened = false;
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                opened = true;
                await using (connection.ConfigureAwait(false))
                {
                    if (!snapshot)
                    {
                        return await read(new Session(connection, null, Dialect), state, cancellationToken).ConfigureAwait(false);
                    }

                    var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
                    await using (transaction.ConfigureAwait(false))
                    {
                        var result = await read(new Session(connection, transaction, Dialect), state, cancellationToken).ConfigureAwait(false);
                        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                        return result;
                    }
                }
            }
            catch (Exception e) when (IsBrokenConnection(e) && opened && attempt == 0 && !cancellationToken.IsCancellationRequested)
            {
                // A pooled connection that PostgreSQL closed (a restart, a failover) fails on first use; the pool's other idle
                // connections are as dead. What runs here is a read, or the start's rewrap, whose every statement checks the row
                // is as it was read, so running it once more on a fresh connection changes nothing twice.
                DropIdleConnections();
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                if (opened && IsBrokenConnection(e))
                {
                    DropIdleConnections();
                }

                throw Unavailable(e);
            }
        }
    }

    /// <summary>Closes the pool's idle connections, so that after a server restart each request does not find a dead one first.</summary>
    void DropIdleConnections() => _dataSource.Clear();

    /// <summary>
    /// Runs <paramref name="work"/>, which takes no revision, in a transaction of its own and commits it. A change that encrypted
    /// with a data key another node has since retired is run again on the reloaded key ring.
    /// </summary>
    public override async Task<T> WriteAsync<TState, T>(
        TState state, Func<WriteTransaction, TState, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    await using (transaction.ConfigureAwait(false))
                    {
                        var result = await work(new PostgresWriteTransaction(connection, transaction, Ring, Time.GetUtcNow()), state, cancellationToken)
                            .ConfigureAwait(false);
                        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                        return result;
                    }
                }
            }
            catch (StaleKeyRingException) when (attempt < StaleRingRetries)
            {
                await ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                throw Failed(e);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>, a change that takes a revision, in a transaction it may share with other changes queued
    /// meanwhile (<see cref="GroupCommit{TWrite}"/>), and returns once that transaction has committed. A change that encrypted
    /// with a data key another node has since retired is run again on the reloaded key ring.
    /// </summary>
    public async Task<T> TransactAsync<TState, T>(
        TState state, Func<PostgresWriteTransaction, TState, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _groupCommit.RunAsync(state, work, cancellationToken).ConfigureAwait(false);
            }
            catch (StaleKeyRingException) when (attempt < StaleRingRetries)
            {
                await ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Runs queued changes in one transaction and commits it, and returns those that committed
    /// (<see cref="GroupCommit{TWrite}.RunEachAsync"/>). The transaction takes the revision lock before any change runs, so that
    /// it never holds a key's row while it waits for the lock; otherwise two nodes' transactions, each holding a key the other's
    /// next change wants, could deadlock.
    /// </summary>
    async Task<List<GroupCommit<PostgresWriteTransaction>.Pending>> CommitGroupAsync(List<GroupCommit<PostgresWriteTransaction>.Pending> batch)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // Sent with the BEGIN, in one round trip.
                    using (var lockRevision = new Session(connection, transaction, Dialect).Sql("SELECT revision FROM keel_revision WHERE id = 1 FOR UPDATE;"))
                    {
                        await lockRevision.ExecuteAsync(CancellationToken.None).ConfigureAwait(false);
                    }

                    var committed = await GroupCommit<PostgresWriteTransaction>.RunEachAsync(
                        batch, () => new PostgresWriteTransaction(connection, transaction, Ring, Time.GetUtcNow()), IsUnavailable)
                        .ConfigureAwait(false);
                    await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);

                    return committed;
                }
            }
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Failed(e);
        }
    }

    /// <summary>
    /// A write is not run again: its commit may have reached the server before the connection broke. A broken connection means
    /// the pool's idle ones are as dead.
    /// </summary>
    StoreUnavailableException Failed(Exception e)
    {
        if (IsBrokenConnection(e))
        {
            DropIdleConnections();
        }

        return Unavailable(e);
    }

    /// <summary>A session lock on a connection of its own: it is held across the rotation's many transactions, on every node.</summary>
    public override async Task<IAsyncDisposable> LockRotationAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var tryLock = new Session(connection, null, Dialect).Sql("SELECT pg_try_advisory_lock(@key);").With("key", RotationLockKey);
            if (!(await tryLock.FirstAsync(static (r, _) => r.GetBoolean(0), cancellationToken).ConfigureAwait(false)))
            {
                throw new KeelException(KeelError.RotationInProgress, "A key rotation is already running; try again when it has finished.");
            }

            (var held, connection) = (new RotationLock(connection), null);
            return held;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public override async ValueTask DisposeAsync()
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

    /// <summary>
    /// Conditions of the database or the network, not of the request, that can clear without any change to Keel: a lost or refused
    /// connection, an exhausted pool, a server shutting down or starting up, a standby that is read-only during a failover.
    /// </summary>
    /// <summary>
    /// Whether the connection itself failed (closed by the server, or its socket broken), as against a slow or overloaded
    /// server, which a second attempt would only load more.
    /// </summary>
    static bool IsBrokenConnection(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal)
            || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException } => true,
        _ => false,
    };

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
        new($"The PostgreSQL database {Name} cannot be used right now ({(e as PostgresException)?.SqlState ?? e.GetType().Name}).", e);

    sealed class RotationLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await using (connection.ConfigureAwait(false))
            {
                using var unlock = new Session(connection, null, PostgresDialect.Instance).Sql("SELECT pg_advisory_unlock(@key);").With("key", RotationLockKey);
                await unlock.ExecuteAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The change encrypted with a data key that is no longer active; the key ring is reloaded and the change run again.</summary>
    internal sealed class StaleKeyRingException : Exception;
}

/// <summary>One write transaction on PostgreSQL, whose statements go out in batches of one round trip each.</summary>
sealed class PostgresWriteTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, KeyRing ring, DateTimeOffset now)
    : WriteTransaction(connection, transaction, PostgresDialect.Instance, ring, now)
{
    /// <summary>The channel every node listens on.</summary>
    public const string Channel = "keel_events";

    readonly NpgsqlConnection _connection = connection;
    readonly NpgsqlTransaction _transaction = transaction;

    // Set by BeginChangeAsync until the change's first batch carries the SAVEPOINT, so that it costs no round trip of its own.
    bool _savepointPending;

    /// <summary>A batch of statements for one round trip; the first of a grouped change also sets the change's savepoint.</summary>
    public NpgsqlBatch Batch()
    {
        var batch = new NpgsqlBatch(_connection, _transaction);
        if (_savepointPending)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {ChangeSavepoint};"));
            _savepointPending = false;
        }

        return batch;
    }

    /// <summary>Refuses a statement before the change's first batch, which would run outside the change's savepoint.</summary>
    public override Sql Sql(string text) =>
        _savepointPending ? throw new InvalidOperationException("A grouped change starts with a batch, which sets its savepoint.") : base.Sql(text);

    public override Task BeginChangeAsync()
    {
        _savepointPending = true;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Leaves the savepoint in place: PostgreSQL keeps a released savepoint's subtransaction until the transaction ends anyway,
    /// so a release would cost a round trip and free nothing. The next change's savepoint of the same name nests inside it, and
    /// a rollback to that name undoes only the latest.
    /// </summary>
    public override Task EndChangeAsync() => Task.CompletedTask;

    public override async Task UndoChangeAsync()
    {
        if (_savepointPending)
        {
            // The change failed before its first statement: it wrote nothing, and its savepoint was never set.
            _savepointPending = false;
            return;
        }

        using var rollback = base.Sql($"ROLLBACK TO SAVEPOINT {ChangeSavepoint};");
        await rollback.ExecuteAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Holds the ring's active data key in place until commit (rotation on another node waits), and finds out whether it is
    /// still the active one.
    /// </summary>
    public override async Task LockActiveKeyAsync(CancellationToken cancellationToken)
    {
        using var select = Sql("SELECT is_active FROM encryption_keys WHERE id = @id FOR SHARE;").With("id", Ring.ActiveKeyId);
        if (!await select.FirstAsync(static (r, _) => r.GetBoolean(0), cancellationToken).ConfigureAwait(false))
        {
            throw new PostgresDatabase.StaleKeyRingException();
        }
    }

    public override async Task NotifyAsync(StoreSignal signal, CancellationToken cancellationToken)
    {
        using var notify = Sql($"SELECT pg_notify('{Channel}', @payload);").With("payload", signal == StoreSignal.Tokens ? "t" : "k");
        await notify.ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }
}
