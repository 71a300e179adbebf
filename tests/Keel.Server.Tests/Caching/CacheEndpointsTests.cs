// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Caching;

/// <summary>The cache as clients see it: reads come from it, every write path invalidates it, and its statistics add up.</summary>
public class CacheEndpointsTests(CacheEndpointsTests.Fixture fixture) : IClassFixture<CacheEndpointsTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override string[] Settings => ["Keel:Cache:MaxEntries=50", "Keel:Cache:MaxBytes=1048576"];
    }

    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Stats_CountHitsAndMisses_OfSingleKeyReads()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "v" });

        // The change feed invalidates each change again as it passes, which would evict a load made before it.
        await fixture.Server.FeedSettledAsync();
        var before = await StatsAsync();

        await _client.GetAsync(path, Ct);
        for (var i = 0; i < 9; i++)
        {
            await _client.GetAsync(path, Ct);
        }

        var after = await StatsAsync();
        Assert.Equal(1, after.Misses - before.Misses);
        Assert.Equal(9, after.Hits - before.Hits);
        Assert.InRange(after.HitRate, 0, 1);
        Assert.Equal(50, after.MaxEntries);
        Assert.Equal(1048576, after.MaxBytes);
    }

    [Fact]
    public async Task Stats_HaveEveryField()
    {
        var body = await (await _client.GetAsync("/api/v1/cache/stats", Ct)).OkJsonAsync();

        Assert.Equal(
            ["hits", "misses", "evictions", "entries", "bytes", "hit_rate", "max_entries", "max_bytes"],
            body.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Put_InvalidatesTheCachedValue()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "old" });
        await _client.GetAsync(path, Ct);

        await _client.PutAsync(path, new { config_value = "new" });

        Assert.Equal("new", (await (await _client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Delete_InvalidatesTheCachedValue()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "v" });
        await _client.GetAsync(path, Ct);

        await _client.DeleteAsync(path, Ct);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task Rollback_InvalidatesTheCachedValue()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "first" });
        await _client.PutAsync(path, new { config_value = "second" });
        await _client.GetAsync(path, Ct);

        await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 });

        Assert.Equal("first", (await (await _client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task AnAbsentKey_IsCached_AndItsCreationInvalidatesIt()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.GetAsync(path, Ct);
        var before = await StatsAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(path, Ct)).StatusCode);
        Assert.Equal(1, (await StatsAsync()).Hits - before.Hits);

        await _client.PutAsync(path, new { config_value = "now here" });

        Assert.Equal("now here", (await (await _client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Batch_ReadsThroughTheCache_AndSeesWrites()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "prod", "a"), new { config_value = "1" });
        await fixture.Server.FeedSettledAsync();
        var batch = new { service_name = service, environment = "prod", config_keys = new[] { "a", "b" } };
        await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch", batch);
        var before = await StatsAsync();

        var cached = await (await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch", batch)).OkJsonAsync();
        Assert.Equal(2, (await StatsAsync()).Hits - before.Hits);
        Assert.Equal(["b"], cached.GetProperty("missing").EnumerateArray().Select(m => m.GetString()));

        await _client.PutAsync(ConfigPath(service, "prod", "a"), new { config_value = "2" });
        await _client.PutAsync(ConfigPath(service, "prod", "b"), new { config_value = "3" });
        var fresh = await (await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch", batch)).OkJsonAsync();

        Assert.Equal(["2", "3"], fresh.GetProperty("configs").EnumerateArray().Select(c => c.GetProperty("config_value").GetString()));
        Assert.Empty(fresh.GetProperty("missing").EnumerateArray());
    }

    [Fact]
    public async Task ManyKeys_StayWithinMaxEntries_AndEvict()
    {
        var service = Service();
        var before = await StatsAsync();
        for (var i = 0; i < 120; i++)
        {
            await _client.GetAsync(ConfigPath(service, "prod", $"k{i}"), Ct);
        }

        var after = await StatsAsync();
        Assert.InRange(after.Entries, 1, 50);
        Assert.True(after.Evictions - before.Evictions >= 60, $"{after.Evictions - before.Evictions} evictions");
    }

    async Task<Stats> StatsAsync()
    {
        var body = await (await _client.GetAsync("/api/v1/cache/stats", Ct)).OkJsonAsync();
        return new Stats(
            body.GetProperty("hits").GetInt64(),
            body.GetProperty("misses").GetInt64(),
            body.GetProperty("evictions").GetInt64(),
            body.GetProperty("entries").GetInt32(),
            body.GetProperty("hit_rate").GetDouble(),
            body.GetProperty("max_entries").GetInt32(),
            body.GetProperty("max_bytes").GetInt64());
    }

    sealed record Stats(long Hits, long Misses, long Evictions, int Entries, double HitRate, int MaxEntries, long MaxBytes);
}
