// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core.Encryption;

namespace Keel.Storage.Relational;

/// <summary>One write transaction of a backend: its statements, its time, the key ring it encrypts with, and its events.</summary>
abstract class WriteTransaction(DbConnection connection, DbTransaction transaction, SqlDialect dialect, KeyRing ring, DateTimeOffset now)
    : Session(connection, transaction, dialect)
{
    /// <summary>The time the transaction stamps its rows with, cut to microseconds.</summary>
    public DateTimeOffset Now { get; } = SqlDialect.Truncate(now);

    public KeyRing Ring { get; } = ring;

    /// <summary>The revision the transaction took, if it took one; raised as committed once it commits.</summary>
    public long? Revision { get; set; }

    /// <summary>The savepoint each change of a group runs in (<see cref="GroupCommit{TWrite}"/>).</summary>
    protected const string ChangeSavepoint = "keel_change";

    /// <summary>Starts a change that shares the transaction with others, in a savepoint of its own.</summary>
    public virtual Task BeginChangeAsync() => Transaction!.SaveAsync(ChangeSavepoint, CancellationToken.None);

    /// <summary>Keeps what the change begun by <see cref="BeginChangeAsync"/> wrote.</summary>
    public virtual Task EndChangeAsync() => Transaction!.ReleaseAsync(ChangeSavepoint, CancellationToken.None);

    /// <summary>Undoes what the change begun by <see cref="BeginChangeAsync"/> wrote, and nothing before it.</summary>
    public virtual async Task UndoChangeAsync()
    {
        await Transaction!.RollbackAsync(ChangeSavepoint, CancellationToken.None).ConfigureAwait(false);
        await Transaction.ReleaseAsync(ChangeSavepoint, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A statement the backend may keep prepared on its connection, for the statements every change runs.</summary>
    public virtual Sql Prepared(string text) => Sql(text);

    /// <summary>
    /// Holds the ring's active data key in place until commit and checks that it is still the active one, before anything is
    /// encrypted with it; where rotation cannot run beside a write, there is nothing to hold.
    /// </summary>
    public virtual Task LockActiveKeyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Tells the other nodes on the database, once the transaction commits, what changed.</summary>
    public virtual Task NotifyAsync(StoreSignal signal, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>What a committed transaction tells the other nodes on the same database.</summary>
enum StoreSignal
{
    /// <summary>Tokens were created or revoked.</summary>
    Tokens,

    /// <summary>The data keys changed.</summary>
    Keys,
}
