// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Tests.Cluster;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Faults;

/// <summary>
/// PostgreSQL stopped and started again under mixed load, with two Keel nodes as processes of their own. The change feed's
/// poll is slowed to its longest, a minute, and the watchers wait at most 15 s, so that the second node hears of the first's
/// writes through its listener, which must reconnect.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class PostgresOutageTests
{
    static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task ARestartUnderLoad_KeepsCachedReads_Answers503ToWrites_LosesNothingAcknowledged_AndWatchersSeeEveryChange()
    {
        Assert.SkipWhen(PrivatePostgres.SkipReason is not null, PrivatePostgres.SkipReason ?? "");
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        await using var writer = await StartNodeAsync(postgres);
        await using var watcher = await StartNodeAsync(postgres);
        var service = Service();
        var cachedPath = ConfigPath(service, "prod", "cached");
        await writer.Client.PutValueAsync(service, "prod", "cached", "steady");
        Assert.Equal("steady", (await (await writer.Client.GetAsync(cachedPath, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        var start = await RevisionAsync(watcher.Client);
        await using var watch = await SseClient.ConnectAsync(watcher.Client, $"/api/v1/watch?service_name={service}&since_revision={start}");

        var load = new WriteAndReadLoad(writer.Client, service, cachedPath, i => $"value {i}");
        var running = load.RunAsync();
        await load.AcknowledgedAtLeastAsync(20, TimeSpan.FromSeconds(30));
        await postgres.StopAsync(Ct);
        var beforeOutage = load.Acknowledged.Count;
        await Task.Delay(Outage, Ct);
        var duringOutage = load.Acknowledged.Count;
        await postgres.StartAgainAsync(Ct);
        await load.AcknowledgedAtLeastAsync(duringOutage + 20, TimeSpan.FromSeconds(60));
        await load.StopAsync(running);

        Assert.Empty(load.Unexpected);
        Assert.True(load.Refused > 0, "no write was refused while PostgreSQL was down");
        Assert.True(duringOutage - beforeOutage <= 1, $"{duringOutage - beforeOutage} writes were acknowledged while PostgreSQL was down");
        Assert.True(load.CachedReads > 10, $"only {load.CachedReads} cached reads were made");

        // Nothing acknowledged is lost: each acknowledged key holds its value, read on the other node.
        await load.AllAcknowledgedReadBackAsync(watcher.Client);
        var acknowledged = load.Acknowledged.Select(a => a.Key).ToList();

        // The watcher that stayed connected, and one that starts again from before the outage, each see every acknowledged key.
        await SeesEveryKeyAsync(watch, acknowledged);
        await using var resumed = await SseClient.ConnectAsync(writer.Client, $"/api/v1/watch?service_name={service}&since_revision={start}");
        await SeesEveryKeyAsync(resumed, acknowledged);
    }

    static Task<KeelServerProcess> StartNodeAsync(PrivatePostgres postgres) =>
        KeelServerProcess.StartAsync(
        [
            "--urls", "http://127.0.0.1:0",
            "--data-dir", KeelTestServer.NewDataDir(),
            "--Keel:Storage:Provider=postgres",
            "--Keel:Storage:Postgres:ConnectionString=" + postgres.ConnectionString,
            "--Keel:Storage:Postgres:ListenerReconnectDelay=00:00:00.100",
            "--Keel:Encryption:MasterKey=" + ClusterFixture.MasterKey,
            "--Keel:ChangeFeed:PollInterval=00:01:00",
        ]);

    static async Task<long> RevisionAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/changes?wait=0", Ct);
        return (await response.OkJsonAsync()).GetProperty("revision").GetInt64();
    }

    static async Task SeesEveryKeyAsync(SseClient watch, IEnumerable<string> keys)
    {
        var missing = keys.ToHashSet(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (missing.Count > 0 && DateTime.UtcNow < deadline)
        {
            var frame = await watch.NextFrameAsync(TimeSpan.FromSeconds(15));
            if (frame.Data is not null)
            {
                missing.Remove(frame.Json.GetProperty("config_key").GetString()!);
            }
        }

        Assert.True(missing.Count == 0, $"the watch missed {missing.Count} acknowledged keys, {string.Join(", ", missing.Take(5))}");
    }
}
