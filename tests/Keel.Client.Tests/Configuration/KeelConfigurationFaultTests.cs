// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;
using Keel.Client.Tests.Infrastructure;
using Keel.Server.Tests.Infrastructure;
using static Keel.Client.Tests.Infrastructure.ClientHarness;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.Configuration;

/// <summary>The provider while the server stops, crashes, restarts, compacts its feed, or sits behind a proxy that buffers streams.</summary>
[Collection(SoakCollection.Name)]
public class KeelConfigurationFaultTests
{
    static void FastRetries(KeelConfigurationOptions o) => o.ConfigureRefresh(r =>
    {
        r.MinBackoff = TimeSpan.FromMilliseconds(200);
        r.MaxBackoff = TimeSpan.FromSeconds(1);
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerStoppedOrKilled_TheClientKeepsItsValues_AndAfterTheRestartAppliesEveryChangeMadeMeanwhile(bool kill)
    {
        var dataDir = KeelTestServer.NewDataDir();
        var service = TestHttp.Service() + (kill ? "-kill" : "-stop");
        try
        {
            var server = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir]);
            var address = server.BaseAddress;
            await server.Client.PutAsync(service, "a", "1");
            await server.Client.PutAsync(service, "b", "2");
            await server.Client.PutAsync(service, "gone", "soon");
            using var configuration = Build(address, service, FastRetries);
            var revision = configuration.Keel().Status.Revision;

            if (kill)
            {
                server.Kill();
            }
            else
            {
                server.Terminate();
                await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            await server.DisposeAsync();
            await EventuallyAsync(() => configuration.Keel().Status.LastError is not null, "the client to notice");
            Assert.Equal(("1", "2", "soon"), (configuration["a"], configuration["b"], configuration["gone"]));

            await using var restarted = await KeelServerProcess.StartAsync(["--urls", address.ToString(), "--data-dir", dataDir]);
            await restarted.Client.PutAsync(service, "a", "10");
            await restarted.Client.PutAsync(service, "c", "30");
            await restarted.Client.DeleteAsync(service, "gone");

            await EventuallyAsync(() => configuration["c"] == "30" && configuration["gone"] is null && configuration["a"] == "10", "the changes made while away", TimeSpan.FromSeconds(20));
            Assert.Equal("2", configuration["b"]);
            Assert.True(configuration.Keel().Status.Revision > revision);
            await EventuallyAsync(() => configuration.Keel().Status.LastError is null, "the error to clear");
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact]
    public async Task AProxyThatBuffersStreams_MakesTheClientLongPoll_AndChangesStillArrive()
    {
        await using var server = await KeelTestServer.StartAsync();
        await using var proxy = new LoopbackProxy(server.BaseAddress) { BufferWatchStreams = true };
        var service = TestHttp.Service();
        await server.Client.PutAsync(service, "k", "1");

        using var configuration = Build(proxy.Address, service, o => o.ConfigureRefresh(r => r.StreamFirstByteTimeout = TimeSpan.FromSeconds(1)));
        await EventuallyAsync(() => configuration.Keel().Status.Transport == KeelTransport.LongPoll, "the fall-back to long-poll");
        Assert.True(proxy.WatchRequests >= 1);

        await server.Client.PutAsync(service, "k", "2");
        await EventuallyAsync(() => configuration["k"] == "2", "the change through long-poll");
    }

    [Fact]
    public async Task ARevisionCompactedWhileAway_IsAnswered410_AndTheClientReadsTheSnapshotAgain()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:ChangeFeed:RetainedRevisions=1", "Keel:ChangeFeed:CompactionInterval=00:00:01");
        await using var proxy = new LoopbackProxy(server.BaseAddress);
        var service = TestHttp.Service();
        await server.Client.PutAsync(service, "k", "1");
        await server.Client.PutAsync(service, "gone", "x");
        using var configuration = Build(proxy.Address, service, FastRetries);
        var reloads = CountReloads(configuration);
        await EventuallyAsync(() => configuration.Keel().Status.Transport == KeelTransport.Watch, "the stream");

        proxy.Partitioned = true;
        await server.Client.PutAsync(service, "k", "2");
        await server.Client.DeleteAsync(service, "gone");
        for (var i = 0; i < 5; i++)
        {
            await server.Client.PutAsync(service, "filler", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Compaction runs every second; past it the client's revision is gone from the feed.
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        using (var probe = await server.Client.GetAsync($"/api/v1/changes?service_name={service}&since_revision={configuration.Keel().Status.Revision}&wait=0", Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Gone, probe.StatusCode);
        }

        proxy.Partitioned = false;
        await EventuallyAsync(() => configuration["k"] == "2" && configuration["gone"] is null && configuration["filler"] == "4", "the snapshot read again", TimeSpan.FromSeconds(20));
        Assert.Equal(1, reloads());
    }

    [Fact]
    public async Task ManyClients_AfterAServerRestart_ReconnectSpreadOverSeconds_NotAllAtOnce()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var port = Unreachable().Port;
        string[] settings = [$"urls=http://127.0.0.1:{port}", "Keel:Watch:MaxWatchersPerToken=0"];
        var service = TestHttp.Service();
        var roots = new List<Microsoft.Extensions.Configuration.ConfigurationRoot>();
        try
        {
            var server = await KeelTestServer.StartAsync(dataDir, settings);
            await server.Client.PutAsync(service, "k", "1");
            for (var i = 0; i < 50; i++)
            {
                roots.Add(Build(server.BaseAddress, service));
            }

            var providers = roots.Select(r => r.Keel()).ToList();
            await EventuallyAsync(() => providers.All(p => p.Status.Transport == KeelTransport.Watch), "every stream");
            await server.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
            await using var restarted = await KeelTestServer.StartAsync(dataDir, settings);
            var listening = DateTimeOffset.UtcNow;
            await EventuallyAsync(() => providers.All(p => p.Status.LastSuccess > listening), "every reconnection", TimeSpan.FromSeconds(20));

            var offsets = providers.Select(p => (p.Status.LastSuccess!.Value - listening).TotalSeconds).Order().ToList();
            Assert.True(offsets[^1] - offsets[0] > 1, $"50 clients reconnected within {offsets[^1] - offsets[0]:0.00} s of each other");
            await restarted.Client.PutAsync(service, "k", "2");
            await EventuallyAsync(() => roots.All(r => r["k"] == "2"), "the change on every client");
        }
        finally
        {
            foreach (var root in roots)
            {
                root.Dispose();
            }

            KeelTestServer.DeleteDataDir(dataDir);
        }
    }
}
