// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Caching;

/// <summary>
/// Writers and readers hammer a few keys of the real server over HTTP: once a write is acknowledged, no read may return an
/// older version, and when the dust settles every key reads its last write.
/// </summary>
[Collection(SoakCollection.Name)]
public class CacheFreshnessSoakTests
{
    [Fact]
    public async Task ReadsOverHttp_NeverTrailAnAcknowledgedWrite()
    {
        await using var server = await KeelTestServer.StartAsync();
        var client = server.Client;
        var service = Service();
        var paths = Enumerable.Range(0, 4).Select(i => ConfigPath(service, "prod", $"k{i}")).ToArray();
        var acknowledged = new long[paths.Length];
        long reads = 0, staleReads = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        var writers = Enumerable.Range(0, paths.Length).Select(k => Task.Run(async () =>
        {
            var written = 0;
            while (!stop.IsCancellationRequested)
            {
                var response = await client.PutAsync(paths[k], new { config_value = (++written).ToString(CultureInfo.InvariantCulture) });
                var version = (await response.OkJsonAsync(written == 1 ? HttpStatusCode.Created : HttpStatusCode.OK)).GetProperty("version").GetInt64();
                Volatile.Write(ref acknowledged[k], version);
            }
        }, Ct));

        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var k = random.Next(paths.Length);
                var mustSee = Volatile.Read(ref acknowledged[k]);
                var response = await client.GetAsync(paths[k], Ct);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    Assert.Equal(0, mustSee);
                    continue;
                }

                var version = (await response.OkJsonAsync()).GetProperty("version").GetInt64();
                Interlocked.Increment(ref reads);
                if (version < mustSee)
                {
                    Interlocked.Increment(ref staleReads);
                }
            }
        }, Ct));

        await Task.WhenAll(writers.Concat(readers));

        Assert.Equal(0, staleReads);
        Assert.True(reads > 500, $"only {reads} reads");
        for (var k = 0; k < paths.Length; k++)
        {
            var body = await (await client.GetAsync(paths[k], Ct)).OkJsonAsync();
            Assert.Equal(acknowledged[k], body.GetProperty("version").GetInt64());
            Assert.Equal(acknowledged[k].ToString(CultureInfo.InvariantCulture), body.GetProperty("config_value").GetString());
        }

        var stats = await (await client.GetAsync("/api/v1/cache/stats", Ct)).OkJsonAsync();
        Assert.True(stats.GetProperty("hits").GetInt64() > 0);
    }
}
