// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using BitFaster.Caching;
using BitFaster.Caching.Counters;
using BitFaster.Caching.Lru;
using Keel.Core.Configs;
using Microsoft.Extensions.Options;

namespace Keel.Server.Caching;

/// <summary>
/// The bounded in-memory cache of live configuration entries (and of keys known to be absent), in front of the store.
/// </summary>
/// <remarks>
/// <para>
/// Entries live in a BitFaster <see cref="ConcurrentLru{K, V}"/>: a pseudo-LRU with hot, warm and cold queues (TU-Q) whose reads
/// take no lock. It bounds the entry count; the byte bound is kept here, in a counter fed by the cache's add and remove events,
/// by trimming the coldest entries, at least a 64th of them at once, whenever the estimate goes over. The entry count is kept
/// here too: the library's own count walks the whole dictionary.
/// </para>
/// <para>
/// Freshness rests on generations. Keys hash onto a fixed array of counters (stripes). A writer increments its key's stripe after
/// its change commits, then removes the key, and only then returns. A reader that misses notes the stripe before it reads the
/// store; after the read it inserts the entry unservable, issues a full fence, and reads the stripe again. Only if the stripe is
/// unchanged does the entry become servable. The writer (increment, then remove) and the reader (insert, then re-read) each put
/// a full fence between their two steps, so at least one sees the other: either the reader sees the new generation and drops
/// its entry, or the writer's remove finds the entry and takes it out. An old row that a slow reader loaded just as a write
/// committed therefore can never be served once the write has returned, and a hit reads nothing but the entry itself.
/// Keys sharing a stripe cost each other a reload, never a stale read; there are as many stripes as entries, up to 4M.
/// </para>
/// </remarks>
sealed class ConfigCache
{
    // The least share of the entries one trim for the byte bound removes: 1/64, so that the cache stays above 98 % of MaxBytes.
    const long TrimFraction = 64;

    readonly ConcurrentLru<CacheKey, CachedConfig> _lru;
    readonly long[] _generations;
    readonly int _generationMask;
    readonly long _maxBytes;
    readonly Counter _hits = new();
    readonly Counter _misses = new();
    readonly Counter _evictions = new();
    PaddedLong _bytes;
    PaddedLong _entries;
    int _trimming;

    public ConfigCache(IOptions<CacheOptions> options)
    {
        var settings = options.Value;
        MaxEntries = settings.MaxEntries;
        _maxBytes = settings.MaxBytes;
        _lru = new ConcurrentLru<CacheKey, CachedConfig>(Environment.ProcessorCount, settings.MaxEntries, EqualityComparer<CacheKey>.Default);
        _lru.Events.Value!.ItemRemoved += OnItemRemoved;
        var stripes = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(settings.MaxEntries, 1024, 1 << 22));
        _generations = new long[stripes];
        _generationMask = stripes - 1;
    }

    public int MaxEntries { get; }

    public long MaxBytes => _maxBytes;

    /// <summary>Looks a key up. On a hit, <paramref name="entry"/> is the live entry or <see langword="null"/> for a key known to be absent.</summary>
    public bool TryGet(ConfigId id, out ConfigEntry? entry)
    {
        var hit = TryGetCached(id, out var cached);
        entry = cached?.Entry;
        return hit;
    }

    /// <summary>Looks a key up, for a reader that also wants the answer rendered with the entry.</summary>
    public bool TryGetCached(ConfigId id, [NotNullWhen(true)] out CachedConfig? cached)
    {
        if (_lru.TryGet(new CacheKey(id), out cached) && cached.IsServable)
        {
            _hits.Increment();
            return true;
        }

        _misses.Increment();
        cached = null;
        return false;
    }

    /// <summary>Whether the key is cached and servable, without counting a lookup.</summary>
    public bool Contains(ConfigId id) => _lru.TryGet(new CacheKey(id), out var cached) && cached.IsServable;

    /// <summary>The keys the cache holds now, servable ones only, in no particular order.</summary>
    public IEnumerable<ConfigId> CachedIds()
    {
        foreach (var (key, cached) in _lru)
        {
            if (cached.IsServable)
            {
                yield return key.Id;
            }
        }
    }

    /// <summary>Notes the key's generation; call before reading the store, and pass the ticket to <see cref="Complete"/>.</summary>
    public LoadTicket BeginLoad(ConfigId id)
    {
        var key = new CacheKey(id);
        return new LoadTicket(key, Volatile.Read(ref _generations[key.Hash & _generationMask]));
    }

    /// <summary>
    /// Caches what the store returned for the ticket's key (<see langword="null"/>: the key is absent), and returns it with its
    /// answer rendered, whether or not it could be cached.
    /// </summary>
    public CachedConfig Complete(LoadTicket ticket, ConfigEntry? entry)
    {
        var candidate = new CachedConfig(ticket.Key.Id, entry);
        ref var generation = ref _generations[ticket.Key.Hash & _generationMask];
        if (Volatile.Read(ref generation) != ticket.Generation)
        {
            // A write landed while the store was read: what was read may be older than it.
            return candidate;
        }

        if (candidate.Bytes > _maxBytes
            || !ReferenceEquals(_lru.GetOrAdd(ticket.Key, static (_, added) => added, candidate), candidate))
        {
            // Too large to cache, or another load's entry is already there: it is settled by its own loader.
            return candidate;
        }

        Interlocked.Add(ref _bytes.value, candidate.Bytes);
        Interlocked.Increment(ref _entries.value);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref generation) == ticket.Generation)
        {
            candidate.MarkServable();
        }
        else
        {
            _lru.TryRemove(new KeyValuePair<CacheKey, CachedConfig>(ticket.Key, candidate));
        }

        EnforceByteBound();
        return candidate;
    }

    /// <summary>Makes every cached read of the key miss from now on; call after a change to the key commits and before it is acknowledged.</summary>
    public void Invalidate(ConfigId id)
    {
        var key = new CacheKey(id);

        // Increment before remove: a load that inserts after the remove is bound to see the new generation.
        Interlocked.Increment(ref _generations[key.Hash & _generationMask]);
        _lru.TryRemove(key);
    }

    /// <summary>
    /// Makes every cached read miss from now on, as when changes may have been missed (the change feed restarted past them).
    /// Rare: it touches every stripe.
    /// </summary>
    public void InvalidateAll()
    {
        for (var i = 0; i < _generations.Length; i++)
        {
            Interlocked.Increment(ref _generations[i]);
        }

        _lru.Clear();
    }

    public CacheStatistics GetStatistics()
    {
        var hits = _hits.Count();
        var misses = _misses.Count();
        var lookups = hits + misses;
        return new CacheStatistics(
            hits,
            misses,
            _evictions.Count(),
            (int)Math.Max(0, Volatile.Read(ref _entries.value)),
            Math.Max(0, Volatile.Read(ref _bytes.value)),
            lookups == 0 ? 0 : (double)hits / lookups,
            MaxEntries,
            _maxBytes);
    }

    void OnItemRemoved(object? sender, ItemRemovedEventArgs<CacheKey, CachedConfig> e)
    {
        Interlocked.Add(ref _bytes.value, -e.Value!.Bytes);
        Interlocked.Decrement(ref _entries.value);
        if (e.Reason is ItemRemovedReason.Evicted or ItemRemovedReason.Trimmed)
        {
            _evictions.Increment();
        }
    }

    void EnforceByteBound()
    {
        if (Volatile.Read(ref _bytes.value) <= _maxBytes || Interlocked.Exchange(ref _trimming, 1) == 1)
        {
            return;
        }

        try
        {
            var trim = _lru.Policy.Eviction.Value!;
            long excess;
            while ((excess = Volatile.Read(ref _bytes.value) - _maxBytes) > 0)
            {
                var count = Volatile.Read(ref _entries.value);
                if (count <= 0)
                {
                    break;
                }

                // Trims about as many of the coldest entries as the excess holds at the average entry size, and never fewer than
                // a 64th of them: each of the library's trims first walks every entry it holds (looking for discardable ones),
                // so trimming one entry per insert would make every insert past the byte bound cost the whole cache. The library
                // refuses to trim more than its capacity at once.
                var before = Volatile.Read(ref _bytes.value);
                var average = Math.Max(1, before / count);
                var batch = Math.Max((excess / average) + 1, count / TrimFraction);
                trim.Trim((int)Math.Clamp(batch, 1, Math.Min(count, trim.Capacity)));
                if (Volatile.Read(ref _bytes.value) >= before)
                {
                    // Nothing left to trim (or a concurrent add outpaced it); the next insert tries again.
                    break;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}

/// <summary>What a reader must carry from <see cref="ConfigCache.BeginLoad"/> to <see cref="ConfigCache.Complete"/>.</summary>
readonly record struct LoadTicket(CacheKey Key, long Generation);

sealed record CacheStatistics(
    long Hits, long Misses, long Evictions, int Entries, long Bytes, double HitRate, int MaxEntries, long MaxBytes);
