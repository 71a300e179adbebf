// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Caching;

/// <summary>
/// Writers put, delete and roll back a few keys of the real server over HTTP while readers read them one by one and in
/// batches: once a change is acknowledged, no read may show an older state, and when the dust settles every key reads its
/// last change.
/// </summary>
[Collection(SoakCollection.Name)]
public class CacheFreshnessSoakTests
{
    [Fact]
    public async Task ReadsOverHttp_NeverTrailAnAcknowledgedChange()
    {
        await using var server = await KeelTestServer.StartAsync();
        var client = server.Client;
        var service = Service();
        const int keyCount = 4;
        var keys = Enumerable.Range(0, keyCount).Select(i => $"k{i}").ToArray();
        var acknowledged = new Acknowledged[keyCount];
        var deletesStarted = new long[keyCount];
        for (var k = 0; k < keyCount; k++)
        {
            acknowledged[k] = new Acknowledged(0, Live: false, DeletesStarted: 0);
        }

        long reads = 0, staleReads = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        var writers = Enumerable.Range(0, keyCount).Select(k => Task.Run(async () =>
        {
            var path = ConfigPath(service, "prod", keys[k]);
            var step = 0;
            while (!stop.IsCancellationRequested)
            {
                var live = Volatile.Read(ref acknowledged[k]).Live;
                Acknowledged next;
                switch (step++ % 5)
                {
                    case 3 when live:
                        Interlocked.Increment(ref deletesStarted[k]);
                        var deleted = await (await client.DeleteAsync(path, Ct)).OkJsonAsync();
                        next = new Acknowledged(deleted.GetProperty("version").GetInt64(), false, Volatile.Read(ref deletesStarted[k]));
                        break;
                    case 4 when Volatile.Read(ref acknowledged[k]).Version > 1:
                        var rolledBack = await (await client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 })).OkJsonAsync();
                        next = new Acknowledged(rolledBack.GetProperty("version").GetInt64(), true, Volatile.Read(ref deletesStarted[k]));
                        break;
                    default:
                        var put = await client.PutAsync(path, new { config_value = step.ToString(CultureInfo.InvariantCulture) });
                        var body = await put.OkJsonAsync(live ? HttpStatusCode.OK : HttpStatusCode.Created);
                        next = new Acknowledged(body.GetProperty("version").GetInt64(), true, Volatile.Read(ref deletesStarted[k]));
                        break;
                }

                Volatile.Write(ref acknowledged[k], next);
            }
        }, Ct));

        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var k = random.Next(keyCount);
                var mustSee = Volatile.Read(ref acknowledged[k]);
                long? seen;
                if (random.Next(2) == 0)
                {
                    var response = await client.GetAsync(ConfigPath(service, "prod", keys[k]), Ct);
                    seen = response.StatusCode == HttpStatusCode.NotFound ? null : (await response.OkJsonAsync()).GetProperty("version").GetInt64();
                }
                else
                {
                    var batch = await (await client.SendAsync(HttpMethod.Post, "/api/v1/config/batch",
                        new { service_name = service, environment = "prod", config_keys = new[] { keys[k] } })).OkJsonAsync();
                    seen = batch.GetProperty("configs").EnumerateArray().Select(c => (long?)c.GetProperty("version").GetInt64()).SingleOrDefault();
                }

                Interlocked.Increment(ref reads);
                if (IsStale(mustSee, seen, Volatile.Read(ref deletesStarted[k])))
                {
                    Interlocked.Increment(ref staleReads);
                }
            }
        }, Ct));

        await Task.WhenAll(writers.Concat(readers));

        Assert.Equal(0, staleReads);
        Assert.True(reads > 500, $"only {reads} reads");
        for (var k = 0; k < keyCount; k++)
        {
            var response = await client.GetAsync(ConfigPath(service, "prod", keys[k]), Ct);
            if (acknowledged[k].Live)
            {
                Assert.Equal(acknowledged[k].Version, (await response.OkJsonAsync()).GetProperty("version").GetInt64());
            }
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
        }

        var stats = await (await client.GetAsync("/api/v1/cache/stats", Ct)).OkJsonAsync();
        Assert.True(stats.GetProperty("hits").GetInt64() > 0);
    }

    /// <summary>
    /// A read is stale when it shows a version older than the last acknowledged change, or shows the key absent although it
    /// was acknowledged live and no delete has begun since.
    /// </summary>
    static bool IsStale(Acknowledged mustSee, long? seen, long deletesStartedNow) => seen switch
    {
        { } version => version < mustSee.Version,
        null => mustSee.Live && deletesStartedNow == mustSee.DeletesStarted,
    };

    sealed record Acknowledged(long Version, bool Live, long DeletesStarted);
}
