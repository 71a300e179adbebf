// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Storage.Relational;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

/// <summary>Keel's embedded backend: every store on one SQLite database file.</summary>
/// <remarks>
/// <para>
/// The database runs in WAL mode with <c>synchronous=FULL</c>: a commit returns only after the write-ahead log is fsynced, so an
/// acknowledged change survives a crash or power loss. Readers use pooled read-only connections and never wait for the writer;
/// all changes go through one writer connection, one transaction at a time.
/// </para>
/// <para>
/// On Unix the database, its write-ahead log and its shared-memory file are owner-only (0600), whatever the umask and the
/// modes an existing database had.
/// </para>
/// </remarks>
public sealed class SqliteStore : RelationalStore
{
    readonly SqliteDatabase _database;

    /// <summary>Creates a store on <see cref="SqliteStoreOptions.DatabasePath"/>; initialize it through <see cref="RelationalStore.Lifecycle"/> before use.</summary>
    /// <param name="options">Where the database is and how it is opened.</param>
    /// <param name="keyEncryptionKey">The key that wraps the data keys stored in the database.</param>
    /// <param name="timeProvider">The clock that stamps changes.</param>
    /// <param name="logger">Where the store logs schema changes.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000:Dispose objects before losing scope", Justification = "The store owns the database and disposes of it.")]
    public SqliteStore(SqliteStoreOptions options, IKeyEncryptionKey keyEncryptionKey, TimeProvider timeProvider, ILogger<SqliteStore> logger)
        : this(new SqliteDatabase(Checked(options), keyEncryptionKey ?? throw new ArgumentNullException(nameof(keyEncryptionKey)), timeProvider, logger))
    {
    }

    SqliteStore(SqliteDatabase database)
        : base(database, new SqliteConfigWriter(database)) => _database = database;

    /// <summary>The writer connection's journal mode and synchronous level, as SQLite reports them.</summary>
    internal Task<(string JournalMode, long Synchronous)> GetDurabilitySettingsAsync() => _database.GetDurabilitySettingsAsync();

    static SqliteStoreOptions Checked(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.DatabasePath);
        return options;
    }
}
