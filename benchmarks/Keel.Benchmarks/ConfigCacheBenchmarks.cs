// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Keel.Core.Configs;
using Keel.Server.Caching;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

// dotnet run -c Release --project benchmarks/Keel.Benchmarks -- --filter '*ConfigCache*' --warmupCount 5 --iterationCount 20
// AMD EPYC, 2 cores (virtual machine), .NET 10.0.12, Server GC
//
// | Method        | Keys   | Mean        | Error     | StdDev    | Ratio | RatioSD | Gen0   | Gen1   | Allocated |
// |-------------- |------- |------------:|----------:|----------:|------:|--------:|-------:|-------:|----------:|
// | DictionaryHit | 1000   |    40.59 ns |  0.277 ns |  0.308 ns |  1.00 |    0.01 |      - |      - |         - |
// | Hit           | 1000   |    92.51 ns |  1.376 ns |  1.413 ns |  2.28 |    0.04 |      - |      - |         - |
// | Miss          | 1000   |    52.43 ns |  0.469 ns |  0.502 ns |  1.29 |    0.02 |      - |      - |         - |
// | LoadAndInsert | 1000   |   391.49 ns |  5.132 ns |  5.910 ns |  9.64 |    0.16 | 0.0038 | 0.0033 |     240 B |
// | DictionaryHit | 100000 |   356.79 ns | 25.842 ns | 27.651 ns |  1.01 |    0.11 |      - |      - |         - |
// | Hit           | 100000 |   493.44 ns | 40.244 ns | 46.345 ns |  1.39 |    0.17 |      - |      - |         - |
// | Miss          | 100000 |   383.15 ns | 33.493 ns | 35.837 ns |  1.08 |    0.13 |      - |      - |         - |
// | LoadAndInsert | 100000 | 1,100.30 ns | 81.340 ns | 93.672 ns |  3.10 |    0.35 |      - |      - |     240 B |

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
