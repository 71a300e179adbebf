// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using BitFaster.Caching.Lfu;
using Keel.Core.Configs;
using Keel.Server.Caching;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

/// <summary>
/// The hit rate of the server's own cache (<see cref="ConfigCache"/>, loads and all) under a Zipf-distributed read stream over
/// many more keys than it holds, for each cache size and exponent asked, beside two references: the best any cache of that
/// size can do under independent requests (it holds the most requested keys: their share of the requests), and BitFaster's
/// W-TinyLFU (<see cref="ConcurrentLfu{K, V}"/>) over the same stream.
/// </summary>
/// <remarks>
/// The measured reads follow a warm-up, but keys of the long tail are still met for the first time in them: those misses no
/// cache avoids, while "best possible" counts a cache that held the top keys from the start. A longer warm-up (--warm-up)
/// moves the measured rate toward the steady state.
/// </remarks>
static class HitRateBenchmark
{
    public static Task<int> RunAsync(string[] args)
    {
        var keys = 10_000_000;
        int[] sizes = [100_000, 250_000, 500_000, 1_000_000];
        double[] exponents = [0.9, 1.0, 1.1, 1.2];
        var reads = 10_000_000L;
        var seed = 1;
        long? warmUpReads = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--keys":
                    keys = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--sizes":
                    sizes = [.. value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
                    break;
                case "--exponents":
                    exponents = [.. value.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture))];
                    break;
                case "--reads":
                    reads = long.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--warm-up":
                    warmUpReads = long.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    seed = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        Console.WriteLine(warmUpReads is { } fixedWarmUp
            ? $"# {keys:N0} keys, {reads:N0} measured reads per row after a warm-up of {fixedWarmUp:N0} reads, seed {seed}"
            : $"# {keys:N0} keys, {reads:N0} measured reads per row after a warm-up of 3x the cache size (at least 2,000,000), seed {seed}");
        Console.WriteLine("| exponent | cache entries | Keel cache hit rate | W-TinyLFU hit rate | best possible | Keel / best | seconds |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var exponent in exponents)
        {
            var zipf = new Zipf(keys, exponent);
            foreach (var size in sizes)
            {
                var clock = Stopwatch.StartNew();
                var warmUp = warmUpReads ?? Math.Max(2_000_000L, 3L * size);
                var keel = MeasureKeel(zipf, size, warmUp, reads, seed);
                var lfu = MeasureLfu(zipf, size, warmUp, reads, seed);
                var best = zipf.TopShare(size);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {exponent:0.0#} | {size:N0} | {keel:P2} | {lfu:P2} | {best:P2} | {keel / best:0.000} | {clock.Elapsed.TotalSeconds:0} |"));
            }
        }

        return Task.FromResult(0);
    }

    static double MeasureKeel(Zipf zipf, int size, long warmUp, long reads, int seed)
    {
        var cache = new ConfigCache(Options.Create(new CacheOptions { MaxEntries = size, MaxBytes = long.MaxValue / 4 }));
        var random = new Random(seed);
        var now = DateTimeOffset.UnixEpoch;
        long hits = 0;
        for (var i = 0L; i < warmUp + reads; i++)
        {
            var id = new ConfigId("svc", "prod", Name(zipf.Next(random)));
            if (cache.TryGet(id, out _))
            {
                hits += i >= warmUp ? 1 : 0;
                continue;
            }

            var ticket = cache.BeginLoad(id);
            cache.Complete(ticket, new ConfigEntry
            {
                Id = id,
                Value = "v",
                ValueType = ConfigValueType.String,
                Version = 1,
                CreatedAt = now,
                UpdatedAt = now,
                UpdatedBy = "bench",
                Revision = 1,
            });
        }

        return (double)hits / reads;
    }

    static double MeasureLfu(Zipf zipf, int size, long warmUp, long reads, int seed)
    {
        var cache = new ConcurrentLfu<int, int>(1, size, new BitFaster.Caching.Scheduler.ForegroundScheduler(), EqualityComparer<int>.Default);
        var random = new Random(seed);
        long hits = 0;
        for (var i = 0L; i < warmUp + reads; i++)
        {
            var rank = zipf.Next(random);
            if (cache.TryGet(rank, out _))
            {
                hits += i >= warmUp ? 1 : 0;
            }
            else
            {
                cache.AddOrUpdate(rank, rank);
            }
        }

        return (double)hits / reads;
    }

    static string Name(int rank) => "key-" + rank.ToString(CultureInfo.InvariantCulture);
}
