// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Keel.Core.Configs;
using Keel.Server.Caching;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

/// <summary>
/// The cache's hot path: a hit, a miss, and the insert that follows a miss, against a plain ConcurrentDictionary.
/// Run: <c>dotnet run -c Release --project benchmarks/Keel.Benchmarks -- --filter *ConfigCache*</c>.
/// Results are in docs/benchmarks.md.
/// </summary>
[MemoryDiagnoser]
public class ConfigCacheBenchmarks
{
    const int Keys = 100_000;

    readonly ConfigId[] _ids = new ConfigId[Keys];
    readonly ConfigId[] _absent = new ConfigId[Keys];
    readonly ConfigEntry[] _entries = new ConfigEntry[Keys];
    ConfigCache _cache = null!;
    ConcurrentDictionary<ConfigId, ConfigEntry> _dictionary = null!;
    int _next;

    [GlobalSetup]
    public void Setup()
    {
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

    [Benchmark]
    public ConfigEntry? Hit()
    {
        _cache.TryGet(_ids[Next()], out var entry);
        return entry;
    }

    [Benchmark]
    public bool Miss() => _cache.TryGet(_absent[Next()], out _);

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
        return _next;
    }
}
