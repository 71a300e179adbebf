// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Storage.Specification.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Storage.Postgres.Tests;

/// <summary>A real PostgreSQL database of its own on the server <c>KEEL_TEST_POSTGRES</c> names, dropped afterwards.</summary>
public sealed class PostgresStoreFixture : IConfigStoreFixture
{
    readonly List<PostgresConfigStore> _opened = [];
    PostgresConfigStore? _store;

    public PostgresTestDatabase? Database { get; private set; }

    public string? SkipReason => PostgresTestDatabase.SkipReason;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public IConfigStore Store => _store ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async ValueTask InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        Database = await PostgresTestDatabase.CreateAsync(TestContext.Current.CancellationToken);
        _store = (PostgresConfigStore)await OpenAnotherAsync();
    }

    public async Task ReopenAsync()
    {
        var old = _store!;
        await old.DisposeAsync();
        lock (_opened)
        {
            _opened.Remove(old);
        }

        _store = (PostgresConfigStore)await OpenAnotherAsync();
    }

    public async Task<IConfigStore> OpenAnotherAsync()
    {
        var store = new PostgresConfigStore(
            new PostgresConfigStoreOptions { ConnectionString = Database!.ConnectionString },
            TestIdentities.MasterKey,
            Time,
            NullLogger<PostgresConfigStore>.Instance);
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

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}
