// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Microsoft.Extensions.Options;

namespace Keel.Server.Http;

/// <summary>
/// Reads of a whole environment or service for an answer (listings, exports, flag files, OFREP's bulk evaluation, schema
/// checks), which hold every value in memory while the answer is made. A small one goes straight through. One that turns out
/// larger than <see cref="LimitsOptions.LargeSnapshotBytes"/> needs one of <see cref="LimitsOptions.MaxConcurrentLargeSnapshots"/>
/// slots until its answer is written; the environment is remembered as large, so that its next reads wait for a slot before
/// they load anything, for at most <see cref="LimitsOptions.LargeSnapshotWait"/>. Without a slot the answer is
/// <see cref="KeelError.ServerBusy"/>, so that parallel exports of a large environment cannot take the server's memory.
/// </summary>
sealed class SnapshotReads(IConfigStore store, IOptions<LimitsOptions> options) : IDisposable
{
    const int MaxRemembered = 10_000;

    readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentLargeSnapshots);
    readonly ConcurrentDictionary<(string Service, string Scope), bool> _large = new();

    /// <summary>
    /// Every live key of a service and environment, as <see cref="IConfigStore.ListAsync"/> reads them, or those after
    /// <paramref name="afterKey"/>, as <see cref="IConfigStore.ListAfterAsync"/> reads them.
    /// </summary>
    /// <exception cref="KeelException">The environment is large and no slot came free in time (<see cref="KeelError.ServerBusy"/>).</exception>
    public async Task<ConfigSnapshot> ListAsync(
        HttpContext httpContext, string serviceName, string environment, CancellationToken cancellationToken, string? afterKey = null)
    {
        var scope = (serviceName, environment);
        var slot = await EnterIfLargeAsync(scope, cancellationToken);
        try
        {
            var snapshot = afterKey is null
                ? await store.ListAsync(serviceName, environment, cancellationToken)
                : await store.ListAfterAsync(serviceName, environment, afterKey, cancellationToken);
            if (IsLarge(scope, snapshot.Entries))
            {
                Keep(httpContext, slot);
                slot = null;
            }

            return snapshot;
        }
        finally
        {
            slot?.Release();
        }
    }

    /// <summary>The live keys of a service under a prefix in every environment, as <see cref="IConfigStore.ListServiceAsync"/> reads them.</summary>
    /// <exception cref="KeelException">The service is large and no slot came free in time (<see cref="KeelError.ServerBusy"/>).</exception>
    public async Task<IReadOnlyList<ConfigEntry>> ListServiceAsync(HttpContext httpContext, string serviceName, string keyPrefix, CancellationToken cancellationToken)
    {
        var scope = (serviceName, "*" + keyPrefix);
        var slot = await EnterIfLargeAsync(scope, cancellationToken);
        try
        {
            var entries = await store.ListServiceAsync(serviceName, keyPrefix, cancellationToken);
            if (IsLarge(scope, entries))
            {
                Keep(httpContext, slot);
                slot = null;
            }

            return entries;
        }
        finally
        {
            slot?.Release();
        }
    }

    async Task<Slot?> EnterIfLargeAsync((string, string) scope, CancellationToken cancellationToken)
    {
        if (!_large.ContainsKey(scope))
        {
            return null;
        }

        return await _slots.WaitAsync(options.Value.LargeSnapshotWait, cancellationToken) ? new Slot(_slots) : throw Busy();
    }

    /// <summary>Whether the entries are large, remembering the answer for the scope's next read.</summary>
    bool IsLarge((string, string) scope, IReadOnlyList<ConfigEntry> entries)
    {
        long size = 0;
        foreach (var entry in entries)
        {
            size += (entry.Id.Key.Length + entry.Value.Length) * sizeof(char);
        }

        if (size < options.Value.LargeSnapshotBytes)
        {
            _large.TryRemove(scope, out _);
            return false;
        }

        if (_large.Count >= MaxRemembered)
        {
            _large.Clear();
        }

        _large[scope] = true;
        return true;
    }

    /// <summary>
    /// Hands a slot to the request, to be given back once its answer is written: the one the read waited for, or one free now,
    /// without waiting, since the entries are in memory already.
    /// </summary>
    void Keep(HttpContext httpContext, Slot? held) =>
        httpContext.Response.OnCompleted(static slot => ((Slot)slot).ReleaseAsync(), held ?? Slot.TryTake(_slots) ?? throw Busy());

    public void Dispose() => _slots.Dispose();

    static KeelException Busy() => new(
        KeelError.ServerBusy,
        "The server is writing as many large listings and exports as it is configured to at once (Keel:Limits:MaxConcurrentLargeSnapshots); retry shortly.");

    /// <summary>One slot, given back once.</summary>
    sealed class Slot(SemaphoreSlim slots)
    {
        int _released;

        /// <summary>A slot, when one is free now.</summary>
        public static Slot? TryTake(SemaphoreSlim slots) => slots.Wait(0) ? new Slot(slots) : null;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }

        public Task ReleaseAsync()
        {
            Release();
            return Task.CompletedTask;
        }
    }
}
