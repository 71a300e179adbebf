// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Server.Caching;

/// <summary>
/// Cache-aside in front of the durable store: single-key and batch reads go through <see cref="ConfigCache"/>, and every change
/// invalidates its key after the store returns and before the change is acknowledged.
/// </summary>
sealed class CachingConfigStore(IConfigStore inner, ConfigCache cache) : IConfigStore
{
    public ValueTask<ConfigEntry?> GetAsync(ConfigId id, CancellationToken cancellationToken) =>
        cache.TryGet(id, out var entry) ? ValueTask.FromResult(entry) : LoadEntryAsync(id, cancellationToken);

    /// <summary>Reads a key with its GET answer rendered: from the cache, or loaded into it.</summary>
    public ValueTask<CachedConfig> ReadAsync(ConfigId id, CancellationToken cancellationToken) =>
        cache.TryGetCached(id, out var cached) ? ValueTask.FromResult(cached) : LoadAsync(id, cancellationToken);

    async ValueTask<ConfigEntry?> LoadEntryAsync(ConfigId id, CancellationToken cancellationToken) =>
        (await LoadAsync(id, cancellationToken).ConfigureAwait(false)).Entry;

    async ValueTask<CachedConfig> LoadAsync(ConfigId id, CancellationToken cancellationToken)
    {
        var ticket = cache.BeginLoad(id);
        var entry = await inner.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return cache.Complete(ticket, entry);
    }

    public async Task<IReadOnlyList<ConfigEntry>> GetManyAsync(
        string serviceName, string environment, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var found = new List<ConfigEntry>(keys.Count);
        List<LoadTicket>? misses = null;
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            var id = new ConfigId(serviceName, environment, key);
            if (cache.TryGet(id, out var entry))
            {
                if (entry is not null)
                {
                    found.Add(entry);
                }
            }
            else
            {
                (misses ??= []).Add(cache.BeginLoad(id));
            }
        }

        if (misses is null)
        {
            return found;
        }

        found.AddRange((await LoadManyAsync(serviceName, environment, misses, cancellationToken).ConfigureAwait(false)).Values);
        return found;
    }

    /// <summary>Reads the tickets' keys in one batch and completes each load, absent keys as absent.</summary>
    async Task<Dictionary<string, ConfigEntry>> LoadManyAsync(
        string serviceName, string environment, List<LoadTicket> tickets, CancellationToken cancellationToken)
    {
        var loaded = await inner.GetManyAsync(serviceName, environment, tickets.ConvertAll(t => t.Key.Id.Key), cancellationToken)
            .ConfigureAwait(false);
        var byKey = loaded.ToDictionary(e => e.Id.Key, StringComparer.Ordinal);
        foreach (var ticket in tickets)
        {
            cache.Complete(ticket, byKey.GetValueOrDefault(ticket.Key.Id.Key));
        }

        return byKey;
    }

    /// <summary>
    /// Loads keys of one service and environment into the cache in one batch read, without counting lookups: the keys it does
    /// not hold yet, and absent ones as absent.
    /// </summary>
    /// <returns>How many keys it loaded.</returns>
    public async Task<int> WarmAsync(string serviceName, string environment, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var tickets = keys.Select(key => new ConfigId(serviceName, environment, key)).Where(id => !cache.Contains(id)).Select(cache.BeginLoad).ToList();
        if (tickets.Count == 0)
        {
            return 0;
        }

        await LoadManyAsync(serviceName, environment, tickets, cancellationToken).ConfigureAwait(false);
        return tickets.Count;
    }

    public Task<ConfigSnapshot> ListAsync(string serviceName, string environment, CancellationToken cancellationToken) =>
        inner.ListAsync(serviceName, environment, cancellationToken);

    public Task<ConfigSnapshot> ListAfterAsync(string serviceName, string environment, string afterKey, CancellationToken cancellationToken) =>
        inner.ListAfterAsync(serviceName, environment, afterKey, cancellationToken);

    public Task<long> GetLastRevisionAsync(string serviceName, string environment, CancellationToken cancellationToken) =>
        inner.GetLastRevisionAsync(serviceName, environment, cancellationToken);

    public Task<IReadOnlyList<ConfigVersion>?> GetHistoryAsync(
        ConfigId id, int limit, long? beforeVersion, CancellationToken cancellationToken) =>
        inner.GetHistoryAsync(id, limit, beforeVersion, cancellationToken);


    public Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken) =>
        InvalidateAfterAsync(request.Id, inner.SetAsync(request, cancellationToken));

    public Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken) =>
        InvalidateAfterAsync(request.Id, inner.DeleteAsync(request, cancellationToken));

    public Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken) =>
        InvalidateAfterAsync(request.Id, inner.RollbackAsync(request, cancellationToken));

    public Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken) => inner.SearchAsync(query, cancellationToken);

    public Task<IReadOnlyList<ConfigEntry>> ListServiceAsync(string serviceName, string keyPrefix, CancellationToken cancellationToken) =>
        inner.ListServiceAsync(serviceName, keyPrefix, cancellationToken);

    public async Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.ApplyChangeSetAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var item in request.Items)
            {
                cache.Invalidate(new ConfigId(request.ServiceName, request.Environment, item.Key));
            }
        }
    }

    async Task<ConfigChange> InvalidateAfterAsync(ConfigId id, Task<ConfigChange> change)
    {
        try
        {
            return await change.ConfigureAwait(false);
        }
        finally
        {
            // Also on failure: an exception may surface after the commit, and a needless invalidation costs one reload.
            cache.Invalidate(id);
        }
    }
}
