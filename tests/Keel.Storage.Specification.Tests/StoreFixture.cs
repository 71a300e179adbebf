// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Core.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// What every backend's fixture shares: the stores it opened, the current one as its own type, and closing them all. A
/// backend supplies only how to open a store on its data, and what to clean up after.
/// </summary>
public abstract class StoreFixture<TStore> : IConfigStoreFixture
    where TStore : class, IKeelStore
{
    readonly List<TStore> _opened = [];
    TStore? _store;

    public virtual string? SkipReason => null;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public IKeelStore Store => Current;

    /// <summary>The current store as its own type, for what only this backend has.</summary>
    public TStore Current => _store ?? throw new InvalidOperationException("The fixture is not initialized.");

    public virtual async ValueTask InitializeAsync()
    {
        if (SkipReason is null)
        {
            _store = await OpenAsync(TestIdentities.MasterKey);
        }
    }

    public Task ReopenAsync() => ReopenWithAsync(TestIdentities.MasterKey);

    /// <summary>Closes the current store and opens it again under <paramref name="masterKey"/>.</summary>
    public async Task ReopenWithAsync(IKeyEncryptionKey masterKey)
    {
        var old = Current;
        await old.DisposeAsync();
        lock (_opened)
        {
            _opened.Remove(old);
        }

        _store = await OpenAsync(masterKey);
    }

    /// <summary>Counted by a backend's own fixture, for the group commit specification; another fixture does not run it.</summary>
    public virtual long CommittedTransactions => throw new NotSupportedException("This fixture does not count transactions.");

    public async Task<IKeelStore> OpenAnotherAsync() => await OpenAsync(TestIdentities.MasterKey);

    /// <summary>Opens another store on this fixture's data under <paramref name="masterKey"/>; one that fails to open is closed.</summary>
    public async Task<IKeelStore> OpenAnotherWithAsync(IKeyEncryptionKey masterKey) => await OpenAsync(masterKey);

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }

        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Creates a store on this fixture's data under <paramref name="masterKey"/>, not yet initialized.</summary>
    protected abstract TStore Create(IKeyEncryptionKey masterKey);

    /// <summary>Removes this fixture's data once every store is closed.</summary>
    protected abstract ValueTask CleanUpAsync();

    async Task<TStore> OpenAsync(IKeyEncryptionKey masterKey)
    {
        var store = Create(masterKey);
        try
        {
            await store.Lifecycle.InitializeAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }

        lock (_opened)
        {
            _opened.Add(store);
        }

        return store;
    }
}
