// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Storage.Sqlite;

/// <summary>Settings of the SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file. Its folder must exist; the file is created when missing, owner-only on Unix.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>How long a statement waits for a lock held by another connection before failing.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many changes that queue behind a commit may share the next transaction and its one fsync (group commit); 1 gives every
    /// change a transaction of its own.
    /// </summary>
    public int MaxGroupCommitChanges { get; init; } = 64;
}
