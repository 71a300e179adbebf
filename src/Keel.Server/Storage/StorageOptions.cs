// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Storage;

/// <summary>Where Keel keeps its data (<c>Keel</c>): <c>--data-dir</c>, <c>KEEL_DATA_DIR</c> or <c>Keel:DataDir</c>.</summary>
sealed class DataOptions
{
    public const string Section = "Keel";

    /// <summary>The data folder, relative to the working directory unless absolute. Created (mode 0700) when missing.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "keel-data";
}

/// <summary>Which store backs Keel and how it is reached (<c>Keel:Storage</c>).</summary>
sealed class StorageOptions
{
    public const string Section = "Keel:Storage";

    public const string SqliteProvider = "sqlite";

    /// <summary>The backend: <c>sqlite</c>, a database file in the data folder.</summary>
    [Required]
    [AllowedValues(SqliteProvider)]
    public string Provider { get; set; } = SqliteProvider;
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
}
