// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Watch;

[Collection(SoakCollection.Name)]
public sealed class WatchSoakTests
{
    [Fact]
    public async Task StalledConsumer_HoldsBackNeitherWritersNorOtherWatchers()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Kestrel:Limits:MaxResponseBufferSize=4096");
        var service = Service();
        const int changes = 1500;

        // A client that asks for the stream and never reads it, with a small receive window, so that the server's buffers fill.
        using var stalled = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Ct);
        await stalled.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /api/v1/watch?service_name={service} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nAuthorization: Bearer {TestTokens.Admin}\r\n\r\n"), Ct);
        await using var healthy = await SseClient.ConnectAsync(server.Client, $"/api/v1/watch?service_name={service}");

        // Long keys make long events, so that the buffers between the server and the stalled client fill sooner.
        var key = new string('k', 400);
        for (var i = 0; i < changes; i++)
        {
            await server.Client.PutValueAsync(service, "dev", $"{key}{i % 10}", $"{i}");
        }

        Assert.Equal(changes, (await healthy.NextEventsAsync(changes, TimeSpan.FromSeconds(60))).Count);
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
