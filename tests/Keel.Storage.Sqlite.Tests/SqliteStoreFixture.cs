// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Storage.Specification.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Storage.Sqlite.Tests;

/// <summary>A real SQLite database file in a fresh temporary folder, deleted afterwards.</summary>
public sealed class SqliteStoreFixture : IConfigStoreFixture
{
    readonly List<SqliteConfigStore> _opened = [];
    SqliteConfigStore? _store;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "keel-sqlite-tests", Guid.NewGuid().ToString("N"));

    public string DatabasePath => Path.Combine(Directory, "keel.db");

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public IConfigStore Store => _store ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        _store = (SqliteConfigStore)await OpenAnotherAsync();
    }

    public async Task ReopenAsync()
    {
        var old = _store!;
        await old.DisposeAsync();
        lock (_opened)
        {
            _opened.Remove(old);
        }

        _store = (SqliteConfigStore)await OpenAnotherAsync();
    }

    public async Task<IConfigStore> OpenAnotherAsync()
    {
        var store = new SqliteConfigStore(new SqliteConfigStoreOptions { DatabasePath = DatabasePath }, TestIdentities.MasterKey, Time, NullLogger<SqliteConfigStore>.Instance);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        lock (_opened)
        {
            _opened.Add(store);
        }

        return store;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; failing the run over it is not.
        }
    }
}
