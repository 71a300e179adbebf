// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Storage.Specification.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Storage.Sqlite.Tests;

/// <summary>A real SQLite database file in a fresh temporary folder, deleted afterwards.</summary>
public sealed class SqliteStoreFixture : StoreFixture<SqliteStore>
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "keel-sqlite-tests", Guid.NewGuid().ToString("N"));

    public string DatabasePath => Path.Combine(Directory, "keel.db");

    public override ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        return base.InitializeAsync();
    }

    public override long CommittedTransactions => Current.CommittedTransactions;

    protected override SqliteStore Create(IKeyEncryptionKey masterKey) =>
        new(new SqliteStoreOptions { DatabasePath = DatabasePath }, masterKey, Time, NullLogger<SqliteStore>.Instance);

    protected override ValueTask CleanUpAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; failing the run over it is not.
        }

        return ValueTask.CompletedTask;
    }
}
