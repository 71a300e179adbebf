// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Storage.Relational;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Postgres;

/// <summary>Keel's shared backend: every store on one PostgreSQL database, which any number of Keel nodes share.</summary>
/// <remarks>
/// Each node listens for the others' notifications on one connection: a notification raises the change feed's
/// <c>Committed</c> and the tokens' <c>TokensChanged</c>, or reloads the key ring; after the listener reconnects, all three
/// happen, because notifications sent while it was away are lost.
/// </remarks>
public sealed class PostgresStore : RelationalStore
{
    /// <summary>Creates a store on <see cref="PostgresStoreOptions.ConnectionString"/>; initialize it through <see cref="RelationalStore.Lifecycle"/> before use.</summary>
    /// <param name="options">How the database is reached.</param>
    /// <param name="keyEncryptionKey">The key that wraps the data keys stored in the database; every node must use the same.</param>
    /// <param name="timeProvider">The clock that stamps changes.</param>
    /// <param name="logger">Where the store logs schema changes and lost connections.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000:Dispose objects before losing scope", Justification = "The store owns the database and disposes of it.")]
    public PostgresStore(PostgresStoreOptions options, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger<PostgresStore> logger)
        : this(new PostgresDatabase(Checked(options), keyEncryptionKey ?? throw new ArgumentNullException(nameof(keyEncryptionKey)), timeProvider, logger))
    {
    }

    PostgresStore(PostgresDatabase database)
        : base(database, new PostgresConfigWriter(database))
    {
    }

    static PostgresStoreOptions Checked(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ConnectionString);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxGroupCommitChanges, 1);
        return options;
    }
}
