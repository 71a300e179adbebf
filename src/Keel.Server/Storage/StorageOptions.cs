// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Storage;

/// <summary>Where Keel keeps its data (<c>Keel</c>): <c>--data-dir</c>, <c>KEEL_DATA_DIR</c> or <c>Keel:DataDir</c>.</summary>
sealed class DataOptions
{
    public const string Section = "Keel";

    /// <summary>The data folder, relative to the working directory unless absolute. Created (mode 0700) when missing; on Unix the files Keel keeps in it are owner-only.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "keel-data";
}

/// <summary>Which store backs Keel and how it is reached (<c>Keel:Storage</c>).</summary>
sealed class StorageOptions
{
    public const string Section = "Keel:Storage";

    public const string SqliteProvider = "sqlite";

    public const string PostgresProvider = "postgres";

    /// <summary>
    /// The backend: <c>sqlite</c>, a database file in the data folder, for one node; or <c>postgres</c>, one PostgreSQL database
    /// that any number of nodes share.
    /// </summary>
    [Required]
    [AllowedValues(SqliteProvider, PostgresProvider)]
    public string Provider { get; set; } = SqliteProvider;
}

/// <summary>Settings of the PostgreSQL backend (<c>Keel:Storage:Postgres</c>).</summary>
sealed class PostgresStorageOptions
{
    public const string Section = "Keel:Storage:Postgres";

    /// <summary>
    /// An Npgsql connection string (<c>KEEL_POSTGRES_CONNECTION_STRING</c>); pool size, timeouts and TLS are set in it.
    /// Required when the provider is <c>postgres</c>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How many queued changes may share one transaction, its hold of the revision lock and its WAL flush (group commit); 1 commits each alone.</summary>
    [Range(1, 4096)]
    public int MaxGroupCommitChanges { get; set; } = 64;
}

/// <summary>Settings of the SQLite backend (<c>Keel:Storage:Sqlite</c>).</summary>
sealed class SqliteStorageOptions
{
    public const string Section = "Keel:Storage:Sqlite";

    /// <summary>The database file name inside the data folder.</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression(@"^[^/\\]+$", ErrorMessage = "Keel:Storage:Sqlite:FileName must be a file name, not a path.")]
    public string FileName { get; set; } = "keel.db";

    /// <summary>How long a statement waits for a lock held by another connection.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many queued changes may share one transaction and its fsync (group commit); 1 commits each alone.</summary>
    [Range(1, 4096)]
    public int MaxGroupCommitChanges { get; set; } = 64;
}
