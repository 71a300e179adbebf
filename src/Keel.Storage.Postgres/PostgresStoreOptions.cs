// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Storage.Postgres;

/// <summary>How a <see cref="PostgresStore"/> reaches its database.</summary>
public sealed class PostgresStoreOptions
{
    /// <summary>An Npgsql connection string; pool sizes and timeouts are set in it.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// How long the notification listener waits before it reconnects after losing its connection; it doubles up to 30 seconds
    /// while the database stays unreachable.
    /// </summary>
    public TimeSpan ListenerReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How many changes that queue behind a commit may share this node's next transaction, its one hold of the revision lock and
    /// its one WAL flush (group commit); 1 gives every change a transaction of its own.
    /// </summary>
    public int MaxGroupCommitChanges { get; init; } = 64;
}
