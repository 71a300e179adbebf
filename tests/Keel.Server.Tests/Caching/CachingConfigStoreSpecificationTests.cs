// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Server.Caching;
using Keel.Storage.Specification.Tests;
using Keel.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Server.Tests.Caching;

/// <summary>
/// The storage contract against what the server really uses: the cache in front of a SQLite store. Caching may change how fast
/// the store answers, never what it answers.
/// </summary>
public sealed class CachingConfigStoreSpecificationTests(CachingStoreFixture fixture)
    : ConfigStoreSpecification<CachingStoreFixture>(fixture);

/// <summary>A SQLite store in a temporary folder, behind a cache of its own; every store opened on the same data gets its own cache.</summary>
public sealed class CachingStoreFixture : IConfigStoreFixture
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "keel-caching-spec", Guid.NewGuid().ToString("N"));
    readonly List<SqliteConfigStore> _backends = [];
    IConfigStore? _store;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public IConfigStore Store => _store ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _store = await OpenAnotherAsync();
    }

    public async Task ReopenAsync()
    {
        var backend = _backends[0];
        _backends.RemoveAt(0);
        await backend.DisposeAsync();
        _store = await OpenAsync(atFront: true);
    }

    public Task<IConfigStore> OpenAnotherAsync() => OpenAsync(atFront: false);

    async Task<IConfigStore> OpenAsync(bool atFront)
    {
        var backend = new SqliteConfigStore(
            new SqliteConfigStoreOptions { DatabasePath = Path.Combine(_directory, "keel.db") }, TestIdentities.MasterKey, Time, NullLogger<SqliteConfigStore>.Instance);
        await backend.InitializeAsync(TestContext.Current.CancellationToken);
        _backends.Insert(atFront ? 0 : _backends.Count, backend);
        return new CachingConfigStore(backend, ConfigCacheTests.NewCache());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
