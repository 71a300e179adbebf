// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Server.Caching;
using Microsoft.Extensions.Options;

namespace Keel.Server.Tests.Caching;

public class ConfigCacheTests
{
    static readonly ConfigId Key = new("svc", "prod", "key");

    [Fact]
    public void TryGet_Misses_UntilALoadCompletes_ThenHits()
    {
        var cache = NewCache();

        Assert.False(cache.TryGet(Key, out _));
        cache.Complete(cache.BeginLoad(Key), Entry(Key, 1));

        Assert.True(cache.TryGet(Key, out var entry));
        Assert.Equal(1, entry!.Version);
    }

    [Fact]
    public void TryGet_HitsAKeyKnownToBeAbsent_WithNoEntry()
    {
        var cache = NewCache();
        cache.Complete(cache.BeginLoad(Key), null);

        Assert.True(cache.TryGet(Key, out var entry));
        Assert.Null(entry);
    }

    [Fact]
    public void Invalidate_MakesTheNextReadMiss()
    {
        var cache = NewCache();
        cache.Complete(cache.BeginLoad(Key), Entry(Key, 1));

        cache.Invalidate(Key);

        Assert.False(cache.TryGet(Key, out _));
    }

    [Fact]
    public void Invalidate_OfAnAbsentKey_EndsItsNegativeEntry()
    {
        var cache = NewCache();
        cache.Complete(cache.BeginLoad(Key), null);

        cache.Invalidate(Key);

        Assert.False(cache.TryGet(Key, out _));
    }

    /// <summary>
    /// The race the cache exists to survive: a reader misses and reads the old row; a writer commits, invalidates and returns;
    /// then the reader inserts the old row. No read after the write returned may see it.
    /// </summary>
    [Fact]
    public void LoadThatRacedAWrite_IsNeverServedAfterTheWriteReturns()
    {
        var cache = NewCache();
        var storeVersion = 1;

        Assert.False(cache.TryGet(Key, out _));
        var ticket = cache.BeginLoad(Key);
        var readByLoader = Entry(Key, storeVersion);

        storeVersion = 2;
        cache.Invalidate(Key);

        cache.Complete(ticket, readByLoader);

        Assert.False(cache.TryGet(Key, out _));
        cache.Complete(cache.BeginLoad(Key), Entry(Key, storeVersion));
        Assert.True(cache.TryGet(Key, out var fresh));
        Assert.Equal(2, fresh!.Version);
    }

    [Fact]
    public void LoadThatRacedAWrite_IsNotServedEvenWhenItLandsBeforeTheInvalidation()
    {
        var cache = NewCache();
        var ticket = cache.BeginLoad(Key);
        var readByLoader = Entry(Key, 1);

        cache.Complete(ticket, readByLoader);
        cache.Invalidate(Key);

        Assert.False(cache.TryGet(Key, out _));
    }

    [Fact]
    public void AnEntryReplacedAfterARace_IsServedAgain()
    {
        var cache = NewCache();
        var stale = cache.BeginLoad(Key);
        cache.Invalidate(Key);
        cache.Complete(stale, Entry(Key, 1));

        // The dead entry gives way to the next load instead of blocking every later one.
        cache.Complete(cache.BeginLoad(Key), Entry(Key, 2));

        Assert.True(cache.TryGet(Key, out var entry));
        Assert.Equal(2, entry!.Version);
    }

    [Fact]
    public void Complete_KeepsALiveEntryAlreadyCached()
    {
        var cache = NewCache();
        var first = cache.BeginLoad(Key);
        var second = cache.BeginLoad(Key);
        var entry = Entry(Key, 1);
        cache.Complete(first, entry);

        cache.Complete(second, Entry(Key, 1));

        Assert.True(cache.TryGet(Key, out var cached));
        Assert.Equal(entry, cached);
        Assert.Equal(1, cache.GetStatistics().Entries);
    }

    [Fact]
    public void EntryCount_StaysWithinMaxEntries_EvictingTheColdest()
    {
        var cache = NewCache(maxEntries: 100);

        for (var i = 0; i < 1000; i++)
        {
            var id = Key with { Key = $"k{i}" };
            cache.Complete(cache.BeginLoad(id), Entry(id, 1));
        }

        var stats = cache.GetStatistics();
        Assert.InRange(stats.Entries, 1, 100);
        Assert.True(stats.Evictions >= 900, $"{stats.Evictions} evictions");
        Assert.True(cache.TryGet(Key with { Key = "k999" }, out _));
        Assert.False(cache.TryGet(Key with { Key = "k0" }, out _));
    }

    [Fact]
    public void Bytes_StayWithinMaxBytes_EvictingTheColdest()
    {
        const long maxBytes = 64 * 1024;
        var cache = NewCache(maxBytes: maxBytes);
        var value = new string('v', 2000);

        for (var i = 0; i < 500; i++)
        {
            var id = Key with { Key = $"k{i}" };
            cache.Complete(cache.BeginLoad(id), Entry(id, 1, value));
        }

        var stats = cache.GetStatistics();
        Assert.InRange(stats.Bytes, 1, maxBytes);
        Assert.InRange(stats.Entries, 1, (int)(maxBytes / 2000) + 1);
        Assert.True(stats.Evictions > 400, $"{stats.Evictions} evictions");
        Assert.True(cache.TryGet(Key with { Key = "k499" }, out _));
    }

    [Fact]
    public void AScanOfManyMoreKeysThanFit_StaysWithinMaxBytes_TrimmingAtLeastA64thAtOnce()
    {
        // The entry bound is far away, so the byte bound alone evicts: as it does when values are larger than average.
        const long maxBytes = 2L * 1024 * 1024;
        var cache = NewCache(maxEntries: 1_000_000, maxBytes: maxBytes);
        var value = new string('v', 300);
        var trims = 0;

        for (var i = 0; i < 40_000; i++)
        {
            var before = cache.GetStatistics();
            var id = Key with { Key = $"k{i}" };
            cache.Complete(cache.BeginLoad(id), Entry(id, 1, value));

            var after = cache.GetStatistics();
            Assert.InRange(after.Bytes, 1, maxBytes);
            if (after.Evictions > before.Evictions)
            {
                // One trim per insert would make each insert past the bound cost a walk of every entry the library holds.
                Assert.InRange(after.Evictions - before.Evictions, before.Entries / 64, before.Entries);
                trims++;
            }
        }

        var stats = cache.GetStatistics();
        Assert.InRange(stats.Bytes, maxBytes * 63 / 64 - 1024, maxBytes);
        Assert.InRange(trims, 10, (40_000 / (stats.Entries / 64)) + 1);
        Assert.True(cache.TryGet(Key with { Key = "k39999" }, out _));
    }

    [Fact]
    public void Bytes_GoBackDown_WhenEntriesAreInvalidated()
    {
        var cache = NewCache();
        var ids = Enumerable.Range(0, 10).Select(i => Key with { Key = $"k{i}" }).ToList();
        foreach (var id in ids)
        {
            cache.Complete(cache.BeginLoad(id), Entry(id, 1, new string('v', 1000)));
        }

        var full = cache.GetStatistics().Bytes;
        foreach (var id in ids)
        {
            cache.Invalidate(id);
        }

        Assert.True(full >= 10 * 1000, $"{full} bytes");
        Assert.Equal(0, cache.GetStatistics().Bytes);
        Assert.Equal(0, cache.GetStatistics().Entries);
    }

    [Fact]
    public void AnEntryLargerThanMaxBytes_IsNotCached()
    {
        var cache = NewCache(maxBytes: 4096);

        cache.Complete(cache.BeginLoad(Key), Entry(Key, 1, new string('v', 4096)));

        Assert.False(cache.TryGet(Key, out _));
        Assert.Equal(0, cache.GetStatistics().Bytes);
    }

    [Fact]
    public void Statistics_CountHitsMissesAndTheHitRate()
    {
        var cache = NewCache();
        Assert.False(cache.TryGet(Key, out _));
        cache.Complete(cache.BeginLoad(Key), Entry(Key, 1));
        Assert.True(cache.TryGet(Key, out _));
        Assert.True(cache.TryGet(Key, out _));
        Assert.True(cache.TryGet(Key, out _));

        var stats = cache.GetStatistics();

        Assert.Equal(3, stats.Hits);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(0.75, stats.HitRate);
        Assert.Equal(1, stats.Entries);
        Assert.Equal(1000, stats.MaxEntries);
    }

    internal static ConfigCache NewCache(int maxEntries = 1000, long maxBytes = 64L * 1024 * 1024) =>
        new(Options.Create(new CacheOptions { MaxEntries = maxEntries, MaxBytes = maxBytes }));

    internal static ConfigEntry Entry(ConfigId id, long version, string value = "v") => new()
    {
        Id = id,
        Value = value,
        ValueType = ConfigValueType.String,
        Version = version,
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
        UpdatedBy = "test",
        Revision = version,
    };
}
