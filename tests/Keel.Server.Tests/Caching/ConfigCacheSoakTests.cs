// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using BitFaster.Caching.Lru;
using Keel.Core.Configs;
using Keel.Server.Caching;
using Keel.Server.Tests.Infrastructure;

namespace Keel.Server.Tests.Caching;

/// <summary>
/// Readers and writers race on a few keys while every loader is slowed down until a write lands between its store read and
/// its insert: the interleaving that leaves a naive cache-aside cache serving an old value after the write returned.
/// </summary>
[Collection(SoakCollection.Name)]
public class ConfigCacheSoakTests
{
    [Fact]
    public async Task ConfigCache_NeverServesAValueOlderThanTheLastAcknowledgedWrite()
    {
        var cache = ConfigCacheTests.NewCache(maxEntries: 1000);

        var result = await RaceAsync(new GenerationCache(cache));

        Assert.Equal(0, result.StaleReads);
        Assert.True(result.RacedLoads > 100, $"only {result.RacedLoads} loads raced a write");
        Assert.True(result.Hits > 1000, $"only {result.Hits} hits: the cache must serve, not just miss");
        Assert.True(result.FinalStateConsistent, "after the writers stop, every key reads its last version");
    }

    /// <summary>The same race against cache-aside without generations: proof that the harness detects stale reads.</summary>
    [Fact]
    public async Task NaiveCacheAside_ServesStaleValues_InTheSameRace()
    {
        var result = await RaceAsync(new NaiveCache());

        Assert.True(result.StaleReads > 0, "the naive cache should have served a stale value");
    }

    static async Task<RaceResult> RaceAsync(ICacheAside cache)
    {
        const int keyCount = 4;
        var keys = Enumerable.Range(0, keyCount).Select(i => new ConfigId("svc", "prod", $"k{i}")).ToArray();
        var committed = new long[keyCount];
        var acknowledged = new long[keyCount];
        long staleReads = 0, racedLoads = 0, hits = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        var writers = Enumerable.Range(0, keyCount).Select(k => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Commit, invalidate, then acknowledge: the order a writer of the real store follows.
                var version = Interlocked.Increment(ref committed[k]);
                cache.Invalidate(keys[k]);
                Volatile.Write(ref acknowledged[k], version);
                Thread.Sleep(1);
            }
        }));

        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var k = random.Next(keyCount);
                var mustSee = Volatile.Read(ref acknowledged[k]);
                long seen;
                if (cache.TryGet(keys[k], out var entry))
                {
                    Interlocked.Increment(ref hits);
                    seen = entry!.Version;
                }
                else
                {
                    var ticket = cache.BeginLoad(keys[k]);
                    seen = Volatile.Read(ref committed[k]);

                    // Half the loads linger until a write commits behind them; the others complete at once and are served.
                    if (random.Next(2) == 0 && WaitForNextCommit(ref committed[k], seen))
                    {
                        Interlocked.Increment(ref racedLoads);
                    }

                    cache.Complete(ticket, ConfigCacheTests.Entry(keys[k], seen));
                }

                if (seen < mustSee)
                {
                    Interlocked.Increment(ref staleReads);
                }
            }
        }));

        await Task.WhenAll(writers.Concat(readers));

        var consistent = true;
        for (var k = 0; k < keyCount; k++)
        {
            if (cache.TryGet(keys[k], out var entry) && entry!.Version != committed[k])
            {
                consistent = false;
            }
        }

        return new RaceResult(staleReads, racedLoads, hits, consistent);
    }

    static bool WaitForNextCommit(ref long committed, long seen)
    {
        var spin = Stopwatch.StartNew();
        while (Volatile.Read(ref committed) == seen)
        {
            if (spin.ElapsedTicks > Stopwatch.Frequency / 200)
            {
                return false;
            }

            Thread.SpinWait(20);
        }

        return true;
    }

    sealed record RaceResult(long StaleReads, long RacedLoads, long Hits, bool FinalStateConsistent);

    interface ICacheAside
    {
        bool TryGet(ConfigId id, out ConfigEntry? entry);

        object BeginLoad(ConfigId id);

        void Complete(object ticket, ConfigEntry? entry);

        void Invalidate(ConfigId id);
    }

    sealed class GenerationCache(ConfigCache cache) : ICacheAside
    {
        public bool TryGet(ConfigId id, out ConfigEntry? entry) => cache.TryGet(id, out entry);

        public object BeginLoad(ConfigId id) => cache.BeginLoad(id);

        public void Complete(object ticket, ConfigEntry? entry) => cache.Complete((LoadTicket)ticket, entry);

        public void Invalidate(ConfigId id) => cache.Invalidate(id);
    }

    /// <summary>Textbook cache-aside: insert what was read, remove on write.</summary>
    sealed class NaiveCache : ICacheAside
    {
        readonly ConcurrentLru<ConfigId, ConfigEntry?> _lru = new(1000);

        public bool TryGet(ConfigId id, out ConfigEntry? entry) => _lru.TryGet(id, out entry);

        public object BeginLoad(ConfigId id) => id;

        public void Complete(object ticket, ConfigEntry? entry) => _lru.AddOrUpdate((ConfigId)ticket, entry);

        public void Invalidate(ConfigId id) => _lru.TryRemove(id);
    }
}
