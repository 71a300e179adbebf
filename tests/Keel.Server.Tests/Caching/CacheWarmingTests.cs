// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Server.Caching;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Caching;

/// <summary>A restarted server loads the keys its cache held back into it, from a list of names it kept in the data folder.</summary>
public sealed class CacheWarmingTests : IDisposable
{
    readonly string _dataDir = KeelTestServer.NewDataDir();

    [Fact]
    public async Task ARestartedServer_ServesTheKeysItsCacheHeld_AsHits_FromTheFirstRead()
    {
        var service = Service();
        var read = Enumerable.Range(0, 30).Select(i => ConfigPath(i % 2 == 0 ? service : service + "-b", "prod", $"hot-{i}")).ToList();
        var cold = ConfigPath(service, "prod", "cold");
        await using (var server = await KeelTestServer.StartAsync(_dataDir))
        {
            foreach (var path in read.Append(cold))
            {
                await server.Client.PutAsync(path, new { config_value = "the value of " + path, encrypt = path.EndsWith("-7", StringComparison.Ordinal) });
            }

            await server.FeedSettledAsync();
            foreach (var path in read)
            {
                await (await server.Client.GetAsync(path, Ct)).OkJsonAsync();
            }
        }

        // Names only: no value, and readable by the server's user alone.
        var file = Path.Combine(_dataDir, CacheWarming.FileName);
        var listed = await File.ReadAllLinesAsync(file, Ct);
        Assert.Equal(30, listed.Length);
        Assert.DoesNotContain(listed, l => l.Contains("the value of", StringComparison.Ordinal));
        Assert.Contains($"{service}\tprod\thot-0", listed);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        await using (var server = await KeelTestServer.StartAsync(_dataDir))
        {
            await server.GetRequiredService<CacheWarming>().Warmed.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            await server.FeedSettledAsync();
            var warmed = await StatsAsync(server);
            Assert.Equal(30, warmed.GetProperty("entries").GetInt32());
            Assert.Equal(0, warmed.GetProperty("misses").GetInt64());

            foreach (var path in read)
            {
                var body = await (await server.Client.GetAsync(path, Ct)).OkJsonAsync();
                Assert.Equal("the value of " + path, body.GetProperty("config_value").GetString());
            }

            await (await server.Client.GetAsync(cold, Ct)).OkJsonAsync();
            var after = await StatsAsync(server);
            Assert.Equal(30, after.GetProperty("hits").GetInt64());
            Assert.Equal(1, after.GetProperty("misses").GetInt64());

            // A write after warming is read at once, as after any load.
            await server.Client.PutAsync(read[0], new { config_value = "changed" });
            Assert.Equal("changed", (await (await server.Client.GetAsync(read[0], Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        }
    }

    [Fact]
    public async Task TheListIsWrittenEveryInterval_SoACrashLeavesARecentOne()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var path = ConfigPath(Service(), "prod", "k");
        var file = Path.Combine(_dataDir, CacheWarming.FileName);
        await using var server = await KeelTestServer.StartAsync(
            _dataDir, builder => builder.Services.AddSingleton<TimeProvider>(time), "Keel:Cache:HotKeysSaveInterval=00:01:00");
        await server.GetRequiredService<CacheWarming>().Warmed.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await server.Client.PutAsync(path, new { config_value = "v" });
        await server.FeedSettledAsync();
        await (await server.Client.GetAsync(path, Ct)).OkJsonAsync();

        time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(200, Ct);
        Assert.False(File.Exists(file));

        // Written once the interval has passed, while the server still runs.
        time.Advance(TimeSpan.FromSeconds(1));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(file) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Single(await File.ReadAllLinesAsync(file, Ct));
    }

    [Fact]
    public async Task AListThatIsNotNames_IsSkippedLineByLine_AndTheServerStarts()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "good");
        await using (var server = await KeelTestServer.StartAsync(_dataDir))
        {
            await server.Client.PutAsync(path, new { config_value = "v" });
        }

        await File.WriteAllTextAsync(
            Path.Combine(_dataDir, CacheWarming.FileName), $"garbage\n{service}\tprod\tgood\n\t\t\nsvc\tprod\tbad key\n{new string('x', 100_000)}\n", Ct);
        await using (var restarted = await KeelTestServer.StartAsync(_dataDir))
        {
            await restarted.GetRequiredService<CacheWarming>().Warmed.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            await restarted.FeedSettledAsync();
            Assert.Equal(1, (await StatsAsync(restarted)).GetProperty("entries").GetInt32());
        }
    }

    [Fact]
    public async Task WithWarmingOff_NoListIsKept_AndARestartStartsCold()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await using (var server = await KeelTestServer.StartAsync(_dataDir, "Keel:Cache:Warm=false"))
        {
            await server.Client.PutAsync(path, new { config_value = "v" });
            await server.Client.GetAsync(path, Ct);
        }

        Assert.False(File.Exists(Path.Combine(_dataDir, CacheWarming.FileName)));
    }

    public void Dispose() => KeelTestServer.DeleteDataDir(_dataDir);

    static async Task<JsonElement> StatsAsync(KeelTestServer server) =>
        await (await server.Client.GetAsync("/api/v1/cache/stats", Ct)).OkJsonAsync();
}
