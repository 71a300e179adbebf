// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Storage.Relational.Encryption;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Relational;

/// <summary>
/// The seam between the shared tables and a backend: how it opens connections, runs a read or a write transaction, and
/// reports a database that cannot be used. Everything else a backend holds is its write engine and its dialect.
/// </summary>
abstract class RelationalDatabase(SqlDialect dialect, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger logger)
    : IStoreLifecycle, IAsyncDisposable
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA2213:Disposable fields should be disposed",
        Justification = "It holds no wait handle, so it owns nothing to release.")]
    readonly SemaphoreSlim _ringReload = new(1, 1);
    volatile KeyRing? _ring;

    public SqlDialect Dialect { get; } = dialect;

    public IKeyEncryptionKey KeyEncryptionKey { get; } = keyEncryptionKey;

    public TimeProvider Time { get; } = timeProvider;

    public ILogger Logger { get; } = logger;

    /// <summary>The database, for messages; never a password.</summary>
    public abstract string Name { get; }

    /// <summary>The data keys values are encrypted and decrypted with.</summary>
    public KeyRing Ring
    {
        get => _ring ?? throw new InvalidOperationException("The store is not initialized.");
        set => _ring = value;
    }

    /// <summary>The transactions of grouped changes committed since the database opened (<see cref="GroupCommit{TWrite}"/>).</summary>
    public abstract long CommittedTransactions { get; }

    /// <summary>Raised with a revision once it is committed, by this node or, where several share the database, another.</summary>
    public event Action<long>? Committed;

    /// <summary>Raised when another node may have created or revoked a token.</summary>
    public event Action? TokensChanged;

    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Runs a read on a connection of its own, in one snapshot of the database when <paramref name="snapshot"/> is set.</summary>
    public abstract Task<T> ReadAsync<TState, T>(
        TState state, Func<Session, TState, CancellationToken, Task<T>> read, CancellationToken cancellationToken, bool snapshot = false);

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction and commits it, then raises <see cref="Committed"/> when it took a
    /// revision. Once the work is done the commit is not cancelled: a change either commits or is rolled back whole.
    /// </summary>
    public abstract Task<T> WriteAsync<TState, T>(
        TState state, Func<WriteTransaction, TState, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// Takes what lets one key rotation run at a time, on every node that shares the database, until the result is disposed.
    /// </summary>
    /// <exception cref="Core.KeelException">A rotation is already running.</exception>
    public abstract Task<IAsyncDisposable> LockRotationAsync(CancellationToken cancellationToken);

    public Task<long> GetRevisionAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static (session, _, cancellationToken) => RevisionAsync(session, cancellationToken), cancellationToken);

    /// <summary>The store-wide revision as the session sees it.</summary>
    public static async Task<long> RevisionAsync(Session session, CancellationToken cancellationToken)
    {
        using var select = session.Sql("SELECT revision FROM keel_revision WHERE id = 1;");
        return await select.Int64Async(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads the data keys again, after another node rotated them or wrapped them under a new master key. Keys this node already
    /// held stay in its ring: a read that took its snapshot before a re-encryption committed may still hold a value under a
    /// retired key. A data key wrapped by a master key this node does not know makes it read its master key again, once (another
    /// node moved to a new one); if that does not help, the node keeps the ring it has and logs why.
    /// </summary>
    public async Task ReloadKeyRingAsync(CancellationToken cancellationToken)
    {
        await _ringReload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            KeyRing loaded;
            try
            {
                loaded = await LoadRingAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException unknownMasterKey)
            {
                try
                {
                    if (await RefreshKeyEncryptionKeyAsync(cancellationToken).ConfigureAwait(false) is null)
                    {
                        Log.KeyRingReloadFailed(Logger, unknownMasterKey);
                        return;
                    }

                    loaded = await LoadRingAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or KeelException)
                {
                    Log.KeyRingReloadFailed(Logger, e);
                    return;
                }
            }

            var ring = _ring is { } old ? loaded.Including(old) : loaded;
            _ring = ring;
            var count = ring.KeyIds.Count();
            Log.KeyRingReloaded(Logger, count, ring.ActiveKeyId);
        }
        finally
        {
            _ringReload.Release();
        }
    }

    Task<KeyRing> LoadRingAsync(CancellationToken cancellationToken) =>
        ReadAsync(this, static (session, db, cancellationToken) => KeyTable.LoadRingAsync(session, db, cancellationToken), cancellationToken);

    /// <summary>Reads the master key again (<see cref="IKeyEncryptionKey.RefreshAsync"/>).</summary>
    /// <returns>The id of the master key it replaced; <see langword="null"/> when it is unchanged.</returns>
    public async Task<string?> RefreshKeyEncryptionKeyAsync(CancellationToken cancellationToken)
    {
        var replaced = KeyEncryptionKey.Id;
        if (!await KeyEncryptionKey.RefreshAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        Log.MasterKeyReplaced(Logger, replaced, KeyEncryptionKey.Id);
        return replaced;
    }

    public abstract ValueTask DisposeAsync();

    protected void RaiseCommitted(long revision) => Committed?.Invoke(revision);

    protected void RaiseTokensChanged() => TokensChanged?.Invoke();
}
