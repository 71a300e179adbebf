// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Keel.Core.Configs;
using Keel.Server.Caching;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

// dotnet run -c Release --project benchmarks/Keel.Benchmarks -- --filter '*ConfigCache*' --warmupCount 5 --iterationCount 20
// AMD EPYC, 2 cores (virtual machine), .NET 10, Server GC; at 276591d:
//
// | Method        | Keys   | Mean        | Error      | StdDev     | Ratio | Allocated |
// |-------------- |------- |------------:|-----------:|-----------:|------:|----------:|
// | DictionaryHit | 1000   |    59.94 ns |   5.469 ns |   6.079 ns |  1.01 |         - |
// | Hit           | 1000   |   130.11 ns |   4.488 ns |   4.802 ns |  2.19 |         - |
// | EntryHit      | 1000   |   725.10 ns |  32.297 ns |  35.898 ns | 12.21 |         - |
// | Miss          | 1000   |    80.89 ns |   8.903 ns |  10.252 ns |  1.36 |         - |
// | LoadAndInsert | 1000   | 1,385.70 ns |  32.292 ns |  35.893 ns | 23.34 |     728 B |
// | DictionaryHit | 100000 |   454.95 ns |  30.943 ns |  35.634 ns |  1.01 |         - |
// | Hit           | 100000 |   716.82 ns |  24.500 ns |  28.215 ns |  1.58 |         - |
// | EntryHit      | 100000 | 1,600.90 ns |  70.111 ns |  77.928 ns |  3.54 |         - |
// | Miss          | 100000 |   375.67 ns |  40.150 ns |  46.237 ns |  0.83 |         - |
// | LoadAndInsert | 100000 | 3,027.16 ns | 319.549 ns | 367.994 ns |  6.69 |     736 B |

/// <summary>
/// The cache's hot path: a hit, a miss, and the insert that follows a miss, against a plain ConcurrentDictionary lookup.
/// Keys are visited in a fixed shuffled order over a working set of <see cref="Keys"/>: a thousand keys stay in the CPU caches
/// and show the code path; a hundred thousand do not, and show what memory costs.
/// Run: <c>dotnet run -c Release --project benchmarks/Keel.Benchmarks -- --filter *ConfigCache*</c>.
/// Results are in docs/benchmarks.md.
/// </summary>
[MemoryDiagnoser]
public class ConfigCacheBenchmarks
{
    ConfigId[] _ids = null!;
    ConfigId[] _absent = null!;
    ConfigEntry[] _entries = null!;
    int[] _order = null!;
    ConfigCache _cache = null!;
    ConcurrentDictionary<ConfigId, ConfigEntry> _dictionary = null!;
    int _next;

    [Params(1_000, 100_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ids = new ConfigId[Keys];
        _absent = new ConfigId[Keys];
        _entries = new ConfigEntry[Keys];
        _order = Enumerable.Range(0, Keys).ToArray();
        new Random(42).Shuffle(_order);
        _cache = new ConfigCache(Options.Create(new CacheOptions { MaxEntries = 1_000_000, MaxBytes = 512L * 1024 * 1024 }));
        _dictionary = new ConcurrentDictionary<ConfigId, ConfigEntry>();
        for (var i = 0; i < Keys; i++)
        {
            _ids[i] = new ConfigId("user-service", "prod", $"database.pool.key-{i}");
            _absent[i] = new ConfigId("user-service", "prod", $"missing.key-{i}");
            _entries[i] = new ConfigEntry
            {
                Id = _ids[i],
                Value = "postgres://db.internal:5432/users?pool=20",
                ValueType = ConfigValueType.String,
                Version = 1,
                CreatedAt = DateTimeOffset.UnixEpoch,
                UpdatedAt = DateTimeOffset.UnixEpoch,
                UpdatedBy = "bench",
                Revision = i,
            };
            _cache.Complete(_cache.BeginLoad(_ids[i]), _entries[i]);
            _dictionary[_ids[i]] = _entries[i];
        }
    }

    [Benchmark(Baseline = true)]
    public ConfigEntry? DictionaryHit()
    {
        _dictionary.TryGetValue(_ids[Next()], out var entry);
        return entry;
    }

    /// <summary>What a GET's hit costs: the lookup and the answer rendered with the entry.</summary>
    [Benchmark]
    public byte[]? Hit()
    {
        _cache.TryGetCached(_ids[Next()], out var cached);
        return cached?.Answer;
    }

    /// <summary>What a reader that needs the entry itself pays on a hit: the lookup, and the entry read back from the answer.</summary>
    [Benchmark]
    public ConfigEntry? EntryHit()
    {
        _cache.TryGet(_ids[Next()], out var entry);
        return entry;
    }

    [Benchmark]
    public bool Miss() => _cache.TryGetCached(_absent[Next()], out _);

    /// <summary>What a miss costs the cache besides the store read: noting the generation, then inserting the loaded entry.</summary>
    [Benchmark]
    public void LoadAndInsert()
    {
        var i = Next();
        _cache.Invalidate(_ids[i]);
        _cache.Complete(_cache.BeginLoad(_ids[i]), _entries[i]);
    }

    int Next()
    {
        var i = _next + 1;
        _next = i == Keys ? 0 : i;
        return _order[_next];
    }
}
