// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Microsoft.Extensions.Options;

namespace Keel.Server.Storage;

/// <summary>
/// Locks the data folder and brings the store's schema up to date before the server starts listening, so that no request ever
/// meets an unmigrated store.
/// </summary>
sealed class StoreStartup(
    DataDirectory dataDirectory, IStoreLifecycle store, IOptions<StorageOptions> options, ILogger<StoreStartup> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        dataDirectory.Acquire();
        await store.InitializeAsync(cancellationToken);
        var revision = await store.GetRevisionAsync(cancellationToken);
        Log.StoreReady(logger, options.Value.Provider, revision);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
