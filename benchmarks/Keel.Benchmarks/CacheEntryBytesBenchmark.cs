// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core.Configs;
using Keel.Server.Caching;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

/// <summary>
/// What one cached entry costs the managed heap, beside the cache's own estimate of it (the figure its byte bound counts):
/// <c>cache-entry-bytes [--entries 200000] [--value-bytes 1024]</c>.
/// </summary>
/// <remarks>
/// The heap is measured after full compacting collections, before the cache is made and after it holds every entry, and the
/// growth is divided by the entries: it counts the cache's own arrays too, spread over its entries. The entries are made as a
/// batch read makes them: a key string of its own each, the service and environment shared, the store's entry let go once it
/// is cached. The floor beside it is the value's own UTF-8 bytes.
/// </remarks>
static class CacheEntryBytesBenchmark
{
    public static Task<int> RunAsync(string[] args)
    {
        var options = ConfigLoader.Parse(args);
        var count = int.Parse(options.GetValueOrDefault("entries", "200000"), CultureInfo.InvariantCulture);
        var valueBytes = int.Parse(options.GetValueOrDefault("value-bytes", "1024"), CultureInfo.InvariantCulture);
        if (count < 1 || valueBytes < 1)
        {
            Console.Error.WriteLine("--entries and --value-bytes must be positive.");
            return Task.FromResult(2);
        }

        var before = Settled();
        var cache = new ConfigCache(Options.Create(new CacheOptions { MaxEntries = count, MaxBytes = long.MaxValue / 4 }));
        var updatedAt = new DateTimeOffset(2026, 12, 7, 15, 4, 5, TimeSpan.Zero).AddTicks(1234560);
        for (var i = 0; i < count; i++)
        {
            var id = new ConfigId("payments", "prod", string.Create(CultureInfo.InvariantCulture, $"key-{i}"));
            cache.Complete(cache.BeginLoad(id), new ConfigEntry
            {
                Id = id,
                Value = string.Create(CultureInfo.InvariantCulture, $"{i}").PadLeft(valueBytes, '0'),
                ValueType = ConfigValueType.String,
                Version = 1,
                CreatedAt = updatedAt,
                UpdatedAt = updatedAt,
                UpdatedBy = "deploy",
                Revision = i + 1,
            });
        }

        var after = Settled();
        var statistics = cache.GetStatistics();
        if (statistics.Entries != count)
        {
            Console.Error.WriteLine($"The cache holds {statistics.Entries} entries, not {count}.");
            return Task.FromResult(1);
        }

        var perEntry = (after - before) / (double)count;
        var estimate = statistics.Bytes / (double)count;
        Console.WriteLine("| Entries | Value bytes | Heap bytes per entry | Estimate per entry | Estimate / heap | Heap / value |");
        Console.WriteLine("|--------:|------------:|---------------------:|-------------------:|----------------:|-------------:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {count:N0} | {valueBytes:N0} | {perEntry:N0} | {estimate:N0} | {estimate / perEntry:F2} | {perEntry / valueBytes:F2} |"));
        GC.KeepAlive(cache);
        return Task.FromResult(0);
    }

    static long Settled()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
