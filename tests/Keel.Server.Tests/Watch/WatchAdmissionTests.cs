// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Core.Storage;
using Keel.Server.Tests.Infrastructure;
using Keel.Server.Watch;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Watch;

/// <summary>
/// The caps on the streams and long-polls one token and one client address hold open, beside the server's own. Every test
/// client connects from 127.0.0.1, so the per-address cap is seen through several tokens from one address.
/// </summary>
public sealed class WatchAdmissionTests
{
    // Streams end quickly once their client leaves: a heartbeat is the write that finds the connection gone.
    const string FastHeartbeat = "Keel:Watch:HeartbeatInterval=00:00:00.200";

    [Fact]
    public async Task Watch_BeyondATokensCap_IsRefused_WhileOtherTokensStillWatchAndPoll()
    {
        // The server has room for the other token's stream and long-poll only if one token cannot take every slot.
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:MaxWatchers=4", "Keel:Watch:MaxWatchersPerToken=2");
        var service = Service();
        using var greedy = await server.CreateTokenClientAsync(["read"], ["unrelated/dev"], "greedy");
        using var other = await server.CreateTokenClientAsync(["read"], [$"{service}/dev"], "other");
        List<HttpResponseMessage> held = [];
        try
        {
            var refused = await HoldUntilRefusedAsync(greedy, "/api/v1/watch", held);
            using (refused)
            {
                await using var watch = await SseClient.ConnectAsync(other, $"/api/v1/watch?service_name={service}");
                var start = await server.GetRequiredService<IStoreLifecycle>().GetRevisionAsync(Ct);
                var poll = other.GetAsync($"/api/v1/changes?service_name={service}&since_revision={start}&wait=10", Ct);
                var change = await server.Client.PutValueAsync(service, "dev", "k", "1");

                var revision = change.GetProperty("revision").GetInt64();
                Assert.Equal(revision, (await watch.NextEventsAsync(1))[0].Json.GetProperty("revision").GetInt64());
                using var answer = await poll;
                var body = await answer.OkJsonAsync();
                Assert.Equal(revision, Assert.Single(body.GetProperty("changes").EnumerateArray()).GetProperty("revision").GetInt64());

                Assert.Equal(2, held.Count);
                await AssertOverCapAsync(refused, "Keel:Watch:MaxWatchersPerToken");
                using var greedyPoll = await greedy.GetAsync("/api/v1/changes?wait=0", Ct);
                await AssertOverCapAsync(greedyPoll, "Keel:Watch:MaxWatchersPerToken");
            }
        }
        finally
        {
            held.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task Watch_SlotOfAStreamItsClientClosed_IsFreedForTheSameToken()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:MaxWatchersPerToken=1", FastHeartbeat);
        using var client = await server.CreateTokenClientAsync(["read"], ["*/*"]);
        var first = await SseClient.ConnectAsync(client, "/api/v1/watch");

        using (var refused = await client.GetAsync("/api/v1/watch", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            await AssertOverCapAsync(refused, "Keel:Watch:MaxWatchersPerToken");
        }

        await first.DisposeAsync();

        await using var next = await RetryWhileOverCapAsync(() => SseClient.ConnectAsync(client, "/api/v1/watch"));
    }

    [Fact]
    public async Task Changes_CountAgainstTheSameCapAsStreams_AndFreeTheirSlotWhenAnswered()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:MaxWatchersPerToken=1", FastHeartbeat);
        using var client = await server.CreateTokenClientAsync(["read"], ["*/*"]);

        var poll = client.GetAsync("/api/v1/changes?wait=3", Ct);
        await WaitUntilHeldAsync(server);
        using (var refused = await client.GetAsync("/api/v1/watch", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            await AssertOverCapAsync(refused, "Keel:Watch:MaxWatchersPerToken");
        }

        using (var answer = await poll)
        {
            await answer.OkJsonAsync();
        }

        await using var stream = await RetryWhileOverCapAsync(() => SseClient.ConnectAsync(client, "/api/v1/watch"));
        using var refusedPoll = await client.GetAsync("/api/v1/changes?wait=0", Ct);
        await AssertOverCapAsync(refusedPoll, "Keel:Watch:MaxWatchersPerToken");
    }

    [Fact]
    public async Task Changes_AbandonedByTheirClient_FreeTheirSlot()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:MaxWatchersPerToken=1");
        using var client = await server.CreateTokenClientAsync(["read"], ["*/*"]);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var poll = client.GetAsync("/api/v1/changes?wait=60", abandon.Token);
        await WaitUntilHeldAsync(server);
        using (var refused = await client.GetAsync("/api/v1/changes?wait=0", Ct))
        {
            await AssertOverCapAsync(refused, "Keel:Watch:MaxWatchersPerToken");
        }

        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);

        using var next = await RetryWhileOverCapAsync(async () =>
        {
            var response = await client.GetAsync("/api/v1/changes?wait=0", Ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                response.Dispose();
                throw new HttpRequestException("over the cap", null, HttpStatusCode.TooManyRequests);
            }

            return response;
        });
        await next.OkJsonAsync();
    }

    [Fact]
    public async Task Watch_BeyondTheClientAddressCap_IsRefused_WhicheverTokenAsks()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:MaxWatchersPerClientAddress=2", FastHeartbeat);
        using var a = await server.CreateTokenClientAsync(["read"], ["*/*"], "a");
        using var b = await server.CreateTokenClientAsync(["read"], ["*/*"], "b");
        using var c = await server.CreateTokenClientAsync(["read"], ["*/*"], "c");
        var first = await SseClient.ConnectAsync(a, "/api/v1/watch");
        await using var second = await SseClient.ConnectAsync(b, "/api/v1/watch");

        using (var refused = await c.GetAsync("/api/v1/watch", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            await AssertOverCapAsync(refused, "Keel:Watch:MaxWatchersPerClientAddress");
        }

        using (var refusedPoll = await c.GetAsync("/api/v1/changes?wait=0", Ct))
        {
            await AssertOverCapAsync(refusedPoll, "Keel:Watch:MaxWatchersPerClientAddress");
        }

        await first.DisposeAsync();

        await using var third = await RetryWhileOverCapAsync(() => SseClient.ConnectAsync(c, "/api/v1/watch"));
    }

    /// <summary>Waits until the server counts a watcher, such as a long-poll just sent, as holding its slot.</summary>
    internal static async Task WaitUntilHeldAsync(KeelTestServer server)
    {
        var admission = server.GetRequiredService<WatchAdmission>();
        for (var i = 0; i < 200 && admission.Counted.Tokens == 0; i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.NotEqual(0, admission.Counted.Tokens);
    }

    /// <summary>Opens streams and keeps them open until one is refused, and returns the refusal.</summary>
    internal static async Task<HttpResponseMessage> HoldUntilRefusedAsync(HttpClient client, string path, List<HttpResponseMessage> held)
    {
        for (var i = 0; i < 100; i++)
        {
            var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, Ct);
            if (!response.IsSuccessStatusCode)
            {
                return response;
            }

            held.Add(response);
        }

        throw new InvalidOperationException("No stream was refused.");
    }

    internal static async Task AssertOverCapAsync(HttpResponseMessage response, string setting)
    {
        // An admitted stream's body never ends: the status says so before the body is read.
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var problem = await response.ProblemAsync(HttpStatusCode.TooManyRequests, "watcher_quota_exceeded");
        Assert.Contains(setting, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After is {response.Headers.RetryAfter}");
    }

    /// <summary>Retries while the server still counts a slot its client has let go of.</summary>
    internal static async Task<T> RetryWhileOverCapAsync<T>(Func<Task<T>> attempt)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await attempt();
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.TooManyRequests && i < 100)
            {
                await Task.Delay(100, Ct);
            }
        }
    }
}
