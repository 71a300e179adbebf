// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Core.Storage;
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

    /// <inheritdoc/>
    public override IStoreBackup? Backup => _database;

    /// <summary>
    /// Copies the database at <paramref name="databasePath"/> into a new file with <c>VACUUM INTO</c>: one read transaction's
    /// snapshot, so consistent while a server writes to it, and compacted. Owner-only on Unix.
    /// </summary>
    /// <param name="databasePath">The database to copy; opened read-only.</param>
    /// <param name="destinationPath">The file to create; it must not exist.</param>
    /// <param name="cancellationToken">Cancels the copy, which then leaves no file behind.</param>
    public static Task BackupAsync(string databasePath, string destinationPath, CancellationToken cancellationToken) =>
        SqliteBackup.CopyAsync(databasePath, destinationPath, cancellationToken);

    /// <summary>
    /// Checks that <paramref name="path"/> is a whole Keel database a server can open: SQLite's integrity check passes and it
    /// records its schema version. Returns the schema version.
    /// </summary>
    /// <param name="path">The file to check; opened read-only.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="InvalidDataException">The file is not a sound Keel database.</exception>
    public static Task<long> VerifyBackupAsync(string path, CancellationToken cancellationToken) => SqliteBackup.VerifyAsync(path, cancellationToken);

    /// <summary>
    /// Puts a backup in place as the database at <paramref name="databasePath"/>, which must not exist: checked first as
    /// <see cref="VerifyBackupAsync"/> checks it, copied owner-only beside the database and moved into place once whole.
    /// Returns the backup's schema version. The caller keeps servers off the database meanwhile.
    /// </summary>
    /// <param name="backupPath">The backup to restore.</param>
    /// <param name="databasePath">Where the database goes.</param>
    /// <param name="cancellationToken">Cancels the restore, which then leaves no database behind.</param>
    /// <exception cref="InvalidDataException">The backup is not a sound Keel database.</exception>
    /// <exception cref="IOException">A database is already there, or the copy failed.</exception>
    public static Task<long> RestoreBackupAsync(string backupPath, string databasePath, CancellationToken cancellationToken) =>
        SqliteBackup.RestoreAsync(backupPath, databasePath, cancellationToken);

    /// <summary>The writer connection's journal mode and synchronous level, as SQLite reports them.</summary>
    internal Task<(string JournalMode, long Synchronous)> GetDurabilitySettingsAsync() => _database.GetDurabilitySettingsAsync();

    static SqliteStoreOptions Checked(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.DatabasePath);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxGroupCommitChanges, 1);
        return options;
    }
}
