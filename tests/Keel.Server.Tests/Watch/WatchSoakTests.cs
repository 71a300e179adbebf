// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text;
using Keel.Server.Tests.Infrastructure;
using Keel.Server.Watch;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Watch;

[Collection(SoakCollection.Name)]
public sealed class WatchSoakTests
{
    [Fact]
    public async Task StalledConsumer_HoldsBackNeitherWritersNorOtherWatchers_AndIsDroppedAfterTheWriteTimeout()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Kestrel:Limits:MaxResponseBufferSize=4096", "Keel:Watch:WriteTimeout=00:00:01");
        var service = Service();
        const int imports = 12;
        const int keysPerImport = 2000;

        // A client that asks for the stream and never reads it, with a small receive window, so that the server's buffers fill.
        using var stalled = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Ct);
        await stalled.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /api/v1/watch?service_name={service} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nAuthorization: Bearer {TestTokens.Admin}\r\n\r\n"), Ct);
        await using var healthy = await SseClient.ConnectAsync(server.Client, $"/api/v1/watch?service_name={service}");

        // Long keys make long events: megabytes of them, more than the kernel's send buffer for the stalled client can hold
        // (on loopback it grows past a megabyte), so that its writes wait.
        var key = new string('k', 400);
        for (var i = 0; i < imports; i++)
        {
            var file = "{" + string.Join(",", Enumerable.Range(0, keysPerImport).Select(k => $"\"{key}{k:D4}\": \"{i}\"")) + "}";
            using var import = await server.Client.PostAsync($"/api/v1/config/{service}/dev/import", Json(file), Ct);
            Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        }

        Assert.Equal(imports * keysPerImport, (await healthy.NextEventsAsync(imports * keysPerImport, TimeSpan.FromSeconds(60))).Count);

        // Its write waited past the timeout: the server has closed the connection, so that reading it now reaches its end.
        Assert.True(await ReadsToTheEndAsync(stalled, TimeSpan.FromSeconds(30)), "the stalled stream was not dropped");
    }

    /// <summary>Reads the socket until the peer closes it (true) or <paramref name="within"/> passes (false).</summary>
    static async Task<bool> ReadsToTheEndAsync(Socket socket, TimeSpan within)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(within);
        var buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            return false;
        }
    }

    [Fact]
    public async Task Watchers_BeyondTheLimit_AreTurnedAway_UntilOneLeaves()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:MaxWatchers=2");
        var first = await SseClient.ConnectAsync(server.Client, "/api/v1/watch");
        await using var second = await SseClient.ConnectAsync(server.Client, "/api/v1/watch");

        using (var refused = await server.Client.GetAsync("/api/v1/watch", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            await refused.ProblemAsync(HttpStatusCode.ServiceUnavailable, "too_many_watchers");
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        await first.DisposeAsync();

        // The server notices the closed stream at its next write; a heartbeat or a change is one.
        await server.Client.PutValueAsync(Service(), "dev", "k", "v");
        await using var third = await RetryAsync(() => SseClient.ConnectAsync(server.Client, "/api/v1/watch"));
    }

    [Fact]
    public async Task Watchers_ArrivingInABurst_AreAdmittedUpToTheTokensCapExactly_AndLeaveNoSlotTaken()
    {
        const int cap = 5;
        await using var server = await KeelTestServer.StartAsync(
            null, $"Keel:Watch:MaxWatchersPerToken={cap}", "Keel:Watch:HeartbeatInterval=00:00:00.200");
        using var client = await server.CreateTokenClientAsync(["read"], ["*/*"]);

        // A long-poll gives its slot back before it answers, so each burst finds the whole cap free.
        for (var round = 0; round < 5; round++)
        {
            await AssertBurstAdmitsAsync(client, cap, _ => "/api/v1/changes?wait=1");
        }

        await AssertBurstAdmitsAsync(client, cap, i => i % 2 == 0 ? "/api/v1/changes?wait=1" : "/api/v1/watch");

        // Integrity: once every client has left, the whole cap is free again, and no more than it.
        List<HttpResponseMessage> held = [];
        try
        {
            for (var i = 0; i < 100 && held.Count < cap; i++)
            {
                var response = await client.GetAsync("/api/v1/watch", HttpCompletionOption.ResponseHeadersRead, Ct);
                if (response.IsSuccessStatusCode)
                {
                    held.Add(response);
                    continue;
                }

                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                response.Dispose();
                await Task.Delay(100, Ct);
            }

            Assert.Equal(cap, held.Count);
            using var over = await client.GetAsync("/api/v1/watch", HttpCompletionOption.ResponseHeadersRead, Ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        }
        finally
        {
            held.ForEach(r => r.Dispose());
        }

        var admission = server.GetRequiredService<WatchAdmission>();
        for (var i = 0; i < 100 && admission.Counted != (0, 0); i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.Equal((0, 0), admission.Counted);
    }

    [Fact]
    public async Task Slots_TakenAndGivenBackInARace_NeverExceedTheCap_AndLeaveNoCounter()
    {
        const int cap = 3;
        var slots = new Slots<string>(cap, StringComparer.Ordinal);
        string[] keys = ["a", "b"];
        var inside = new int[keys.Length];
        var worst = 0;
        using var start = new Barrier(4);

        // Each key crosses zero again and again, so that retiring and replacing its counter races with taking it.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(
            () =>
            {
                start.SignalAndWait(Ct);
                for (var i = 0; i < 200_000; i++)
                {
                    var k = (i + t) % keys.Length;
                    if (!slots.TryTake(keys[k], out var slot))
                    {
                        continue;
                    }

                    var now = Interlocked.Increment(ref inside[k]);
                    InterlockedMax(ref worst, now);
                    Interlocked.Decrement(ref inside[k]);
                    slots.Release(keys[k], slot);
                }
            },
            Ct)));

        Assert.True(worst <= cap, $"{worst} held one key's slots at once");
        Assert.Equal(0, slots.Counted);
        Assert.True(slots.TryTake("a", out var again));
        Assert.NotNull(again);
        slots.Release("a", again);
        Assert.Equal(0, slots.Counted);

        static void InterlockedMax(ref int target, int value)
        {
            for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            {
                if (Interlocked.CompareExchange(ref target, value, seen) == seen)
                {
                    return;
                }
            }
        }
    }

    static async Task AssertBurstAdmitsAsync(HttpClient client, int cap, Func<int, string> path)
    {
        var answers = await Task.WhenAll(
            Enumerable.Range(0, 40).Select(i => client.GetAsync(path(i), HttpCompletionOption.ResponseHeadersRead, Ct)));
        try
        {
            Assert.Equal(cap, answers.Count(a => a.IsSuccessStatusCode));
            Assert.All(answers.Where(a => !a.IsSuccessStatusCode), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.StatusCode));
        }
        finally
        {
            foreach (var answer in answers)
            {
                answer.Dispose();
            }
        }
    }

    static async Task<T> RetryAsync<T>(Func<Task<T>> attempt)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await attempt();
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.ServiceUnavailable && i < 50)
            {
                await Task.Delay(100, Ct);
            }
        }
    }
}
