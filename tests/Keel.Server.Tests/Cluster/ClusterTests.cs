// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Keel.Server.Tests.Infrastructure;
using Keel.Server.Tests.Webhooks;
using Keel.Storage.Specification.Tests;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Cluster;

/// <summary>Two Keel nodes in this process on one PostgreSQL database of their own; tests add nodes of their own.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>The master key every node shares.</summary>
    public static readonly string MasterKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    readonly List<KeelTestServer> _nodes = [];

    public PostgresTestDatabase Database { get; private set; } = null!;

    public KeelTestServer A => _nodes[0];

    public KeelTestServer B => _nodes[1];

    public async ValueTask InitializeAsync()
    {
        if (PostgresTestDatabase.SkipReason is not null)
        {
            return;
        }

        Database = await PostgresTestDatabase.CreateAsync(Ct);
        _nodes.Add(await StartNodeAsync());
        _nodes.Add(await StartNodeAsync());
    }

    /// <summary>The settings that put a node on the cluster's database, or on <paramref name="database"/>.</summary>
    public string[] NodeSettings(PostgresTestDatabase? database = null, params string[] extra) =>
    [
        "Keel:Storage:Provider=postgres",
        "Keel:Storage:Postgres:ConnectionString=" + (database ?? Database).ConnectionString,
        "Keel:Encryption:MasterKey=" + MasterKey,
        "Keel:ChangeFeed:PollInterval=00:00:05",
        .. WebhookApi.FastSettings("Keel:Webhooks:PollInterval=00:00:05"),
        .. extra,
    ];

    /// <summary>Starts another node in this process; the caller disposes it.</summary>
    public Task<KeelTestServer> StartNodeAsync(PostgresTestDatabase? database = null) => KeelTestServer.StartAsync(null, NodeSettings(database));

    /// <summary>Starts a node in a process of its own, which a test can kill.</summary>
    public Task<KeelServerProcess> StartProcessNodeAsync(PostgresTestDatabase? database = null) =>
        KeelServerProcess.StartAsync(
            ["--urls", "http://127.0.0.1:0", "--data-dir", KeelTestServer.NewDataDir(), .. NodeSettings(database).Select(s => "--" + s)]);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}

/// <summary>
/// Several nodes on one PostgreSQL: what is written through one is read, watched and delivered through the others. The feed's
/// poll is slowed to 5 s, so that anything faster travels by LISTEN/NOTIFY.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class ClusterTests : IClassFixture<ClusterFixture>
{
    static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);

    readonly ClusterFixture _cluster;

    public ClusterTests(ClusterFixture cluster)
    {
        if (PostgresTestDatabase.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }

        _cluster = cluster;
    }

    [Fact]
    public async Task WriteOnOne_IsReadOnAnother_AndWatchedOnAThird_WithoutWaitingForThePoll()
    {
        var service = Service();
        await using var c = await _cluster.StartNodeAsync();
        await _cluster.A.Client.PutValueAsync(service, "prod", "timeout", "1");

        // B caches the old value first: the write must invalidate it there.
        Assert.Equal("1", await ValueAsync(_cluster.B, service, "timeout"));
        var start = await RevisionAsync(c);
        await using var watch = await SseClient.ConnectAsync(c.Client, $"/api/v1/watch?service_name={service}&since_revision={start}");

        var written = await _cluster.A.Client.PutValueAsync(service, "prod", "timeout", "2");

        var events = await watch.NextEventsAsync(1, Propagation);
        Assert.Equal(written.GetProperty("revision").GetInt64(), events[0].Json.GetProperty("revision").GetInt64());
        Assert.Equal("2", await EventuallyAsync(() => ValueAsync(_cluster.B, service, "timeout"), "2"));
    }

    [Fact]
    public async Task ConcurrentWritersOnTwoNodes_AWatcherOnAThird_SeesEveryRevisionOnceInOrder()
    {
        var service = Service();
        await using var c = await _cluster.StartNodeAsync();
        var start = await RevisionAsync(c);
        await using var watch = await SseClient.ConnectAsync(c.Client, $"/api/v1/watch?service_name={service}&since_revision={start}");

        const int Writers = 6, Writes = 25;
        var written = await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var node = w % 2 == 0 ? _cluster.A : _cluster.B;
            List<long> revisions = [];
            for (var i = 0; i < Writes; i++)
            {
                var change = await node.Client.PutValueAsync(service, "prod", $"k{w}", $"{i}");
                revisions.Add(change.GetProperty("revision").GetInt64());
            }

            return revisions;
        }, Ct)));

        var expected = written.SelectMany(r => r).Order().ToList();
        var seen = (await watch.NextEventsAsync(expected.Count, TimeSpan.FromSeconds(30)))
            .Select(e => e.Json.GetProperty("revision").GetInt64())
            .ToList();
        Assert.Equal(expected, seen);
        Assert.False(await watch.ReceivesEventWithinAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task KillingTheNodeUnderAWatcher_TheWatcherResumesOnAnotherWithLastEventId_MissingNothing()
    {
        var service = Service();
        var start = await RevisionAsync(_cluster.A);
        var received = Channel.CreateUnbounded<long>();
        var killed = await _cluster.StartProcessNodeAsync();
        string? lastEventId;
        try
        {
            await using var first = await SseClient.ConnectAsync(killed.Client, $"/api/v1/watch?service_name={service}&since_revision={start}");
            for (var i = 0; i < 5; i++)
            {
                await _cluster.A.Client.PutValueAsync(service, "prod", "k", $"{i}");
            }

            foreach (var e in await first.NextEventsAsync(5))
            {
                received.Writer.TryWrite(e.Json.GetProperty("revision").GetInt64());
            }

            lastEventId = first.LastEventId;
            killed.Kill();
        }
        finally
        {
            await killed.DisposeAsync();
        }

        // Writes go on while the watcher is away; it reconnects to B where it left off.
        List<long> written = [];
        for (var i = 5; i < 12; i++)
        {
            written.Add((await _cluster.B.Client.PutValueAsync(service, "prod", "k", $"{i}")).GetProperty("revision").GetInt64());
        }

        await using var resumed = await SseClient.ConnectAsync(_cluster.B.Client, $"/api/v1/watch?service_name={service}", lastEventId);
        var rest = await resumed.NextEventsAsync(written.Count);
        Assert.Equal(written, rest.Select(e => e.Json.GetProperty("revision").GetInt64()));
        Assert.False(await resumed.ReceivesEventWithinAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(long.Parse(lastEventId!, System.Globalization.CultureInfo.InvariantCulture) + 1, written[0]);
    }

    [Fact]
    public async Task TokenMadeOnOneNode_AuthenticatesOnAnother_AndItsRevocationReachesItToo()
    {
        using var created = await _cluster.A.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "cluster", permissions = new[] { "read" }, scopes = new[] { "*/*" } }), Ct);
        var token = await created.OkJsonAsync(HttpStatusCode.Created);
        using var client = _cluster.B.CreateClient(token.GetProperty("token").GetString());

        Assert.Equal(HttpStatusCode.NotFound, await EventuallyAsync(() => StatusAsync(client, ConfigPath(Service(), "prod", "absent")), HttpStatusCode.NotFound));

        using var revoked = await _cluster.A.Client.DeleteAsync($"/api/v1/tokens/{token.GetProperty("id").GetString()}", Ct);
        Assert.True(revoked.IsSuccessStatusCode);
        Assert.Equal(
            HttpStatusCode.Unauthorized,
            await EventuallyAsync(() => StatusAsync(client, ConfigPath(Service(), "prod", "absent")), HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task KeyRotatedOnOneNode_AnotherNodeEncryptsWithTheNewKey_AndAThirdReadsIt()
    {
        var service = Service();
        await using var c = await _cluster.StartNodeAsync();
        using var rotated = await _cluster.A.Client.PostAsync("/api/v1/admin/keys/rotate", null, Ct);
        var rotation = await rotated.OkJsonAsync();

        using var put = await _cluster.B.Client.PutAsync(ConfigPath(service, "prod", "password"), new { config_value = "s3cret", encrypt = true });
        await put.OkJsonAsync(HttpStatusCode.Created);

        Assert.Equal("s3cret", await ValueAsync(c, service, "password"));
        var keys = await (await _cluster.A.Client.GetAsync("/api/v1/admin/keys", Ct)).OkJsonAsync();
        Assert.Equal(
            rotation.GetProperty("active_key_id").GetInt32(),
            keys.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("active").GetBoolean()).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task WebhookDeliveries_AreSentByExactlyOneNode()
    {
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var c = await _cluster.StartNodeAsync();
        await _cluster.A.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");

        const int Changes = 20;
        for (var i = 0; i < Changes; i++)
        {
            await (i % 2 == 0 ? _cluster.A : _cluster.B).Client.PutValueAsync(service, WebhookApi.Env, "k", $"{i}");
        }

        var received = await receiver.WaitForAsync(Changes);
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.Equal(Changes, receiver.Received.Count);
        Assert.Equal(Changes, received.Select(r => r.DeliveryId).Distinct().Count());
        var revisions = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("revision").GetInt64()).ToList();
        Assert.Equal(revisions.Order(), revisions);
    }

    [Fact]
    public async Task SixtyFourWritersUnderGroupCommit_NodeKilledMidway_LoseNoAcknowledgedWrite()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await Faults.SigkillMidwayTests.KillUnderSixtyFourWritersAsync(() => _cluster.StartProcessNodeAsync(database));
    }

    [Fact]
    public async Task NodeKilledMidDelivery_LeavesTheDeliveryToAnother_WithTheSameId()
    {
        var service = Service();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, index) => index == 0 ? release.Task : Task.FromResult(200);

        // A database of its own, so that the dying node is the only one that can take the delivery; another joins before it dies.
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        var dying = await _cluster.StartProcessNodeAsync(database);
        try
        {
            var subscription = await dying.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
            await dying.Client.PutValueAsync(service, WebhookApi.Env, "k", "x");
            await receiver.WaitForAsync(1);
            await using var survivor = await _cluster.StartNodeAsync(database);
            dying.Kill();
            release.TrySetResult(200);

            var held = receiver.Received[0];
            var received = await receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));
            Assert.Equal(held.DeliveryId, received[1].DeliveryId);
            Assert.Equal(held.Signature, received[1].Signature);
            var delivered = await survivor.Client.WaitForDeliveriesAsync(
                subscription.GetProperty("subscription_id").GetString()!, l => l.Count == 1 && l[0].GetProperty("status").GetString() == "delivered");
            Assert.Equal(held.DeliveryId, delivered.Single().GetProperty("delivery_id").GetString());
        }
        finally
        {
            release.TrySetResult(200);
            await dying.DisposeAsync();
        }
    }

    static async Task<string?> ValueAsync(KeelTestServer node, string service, string key)
    {
        using var response = await node.Client.GetAsync(ConfigPath(service, "prod", key), Ct);
        return response.IsSuccessStatusCode ? (await response.ReadJsonAsync()).GetProperty("config_value").GetString() : null;
    }

    static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Ct);
        return response.StatusCode;
    }

    static async Task<long> RevisionAsync(KeelTestServer node)
    {
        using var response = await node.Client.GetAsync("/api/v1/changes?wait=0", Ct);
        return (await response.OkJsonAsync()).GetProperty("revision").GetInt64();
    }

    /// <summary>Asks until the answer is <paramref name="expected"/> or the propagation budget is spent; returns the last answer.</summary>
    static async Task<T> EventuallyAsync<T>(Func<Task<T>> ask, T expected)
    {
        var deadline = DateTime.UtcNow + Propagation;
        while (true)
        {
            var answer = await ask();
            if (EqualityComparer<T>.Default.Equals(answer, expected) || DateTime.UtcNow > deadline)
            {
                return answer;
            }

            await Task.Delay(20, Ct);
        }
    }
}
