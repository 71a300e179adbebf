// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Http;

/// <summary>Slow and greedy clients, over raw sockets: each holds a connection, and each is bounded in count, size and time.</summary>
public sealed class ConnectionLimitsTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task HeadersThatNeverEnd_AreCutOff_AtTheHeadersTimeout()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Limits:RequestHeadersTimeout=00:00:01");
        using var client = await ConnectAsync(server);
        var clock = Stopwatch.StartNew();

        await SendAsync(client, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
        var answer = await ReadToCloseAsync(client);

        Assert.True(clock.Elapsed < Patience, $"the connection stayed open {clock.Elapsed}");
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
    }

    [Fact]
    public async Task TooManyHeaders_Or_TooManyHeaderBytes_Are431()
    {
        await using var server = await KeelTestServer.StartAsync(
            null, "Keel:Limits:MaxRequestHeaderCount=10", "Keel:Limits:MaxRequestHeaderBytes=2048");

        var many = string.Concat(Enumerable.Range(0, 20).Select(i => $"X-H{i}: v\r\n"));
        var large = "X-Large: " + new string('a', 4000) + "\r\n";
        var few = string.Concat(Enumerable.Range(0, 5).Select(i => $"X-H{i}: v\r\n"));

        Assert.StartsWith("HTTP/1.1 431", await RequestAsync(server, many), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 431", await RequestAsync(server, large), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(server, few), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PastTheConnectionLimit_ANewConnectionIsClosed_UntilOneEnds()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Limits:MaxConnections=2");
        using var first = await ConnectAsync(server);
        using var second = await ConnectAsync(server);
        foreach (var held in new[] { first, second })
        {
            await SendAsync(held, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await ReadSomeAsync(held), StringComparison.Ordinal);
        }

        using (var third = await ConnectAsync(server))
        {
            await SendAsync(third, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            Assert.Equal(string.Empty, await ReadToCloseAsync(third));
        }

        first.Dispose();
        var deadline = DateTime.UtcNow + Patience;
        string answer;
        do
        {
            await Task.Delay(100, Ct);
            answer = await RequestAsync(server, string.Empty);
        }
        while (answer.Length == 0 && DateTime.UtcNow < deadline);

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyThatTrickles_IsCutOff_BelowTheMinimumRate()
    {
        await using var server = await KeelTestServer.StartAsync(
            null, "Keel:Limits:MinRequestBodyBytesPerSecond=1000", "Keel:Limits:MinRequestBodyGracePeriod=00:00:02");
        using var client = await ConnectAsync(server);
        var path = ConfigPath(Service(), "prod", "k");
        await SendAsync(
            client,
            $"PUT {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TestTokens.Admin}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
        var clock = Stopwatch.StartNew();

        var closed = false;
        while (!closed && clock.Elapsed < Patience)
        {
            try
            {
                // 400 bytes a second: above Kestrel's own floor (240), below the one configured.
                await SendAsync(client, new string(' ', 100));
                await Task.Delay(250, Ct);
                closed = client.Client.Poll(0, SelectMode.SelectRead);
            }
            catch (IOException)
            {
                closed = true;
            }
        }

        Assert.True(closed, $"the body trickled for {clock.Elapsed} without being cut off");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await server.Client.GetAsync(path, Ct)).StatusCode);
    }

    static async Task<TcpClient> ConnectAsync(KeelTestServer server)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Ct);
        return client;
    }

    static Task SendAsync(TcpClient client, string text) => client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(text), Ct).AsTask();

    /// <summary>A GET of <c>/healthz</c> with <paramref name="headers"/> on a connection of its own; what came back.</summary>
    static async Task<string> RequestAsync(KeelTestServer server, string headers)
    {
        using var client = await ConnectAsync(server);
        await SendAsync(client, $"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n");
        return await ReadToCloseAsync(client);
    }

    static async Task<string> ReadSomeAsync(TcpClient client)
    {
        var buffer = new byte[8192];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience);
        var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    /// <summary>Everything the server sends until it closes the connection (or resets it); fails the test if it never does.</summary>
    static async Task<string> ReadToCloseAsync(TcpClient client)
    {
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience);
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, timeout.Token)) > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // A reset ends the answer as a close does.
        }

        return answer.ToString();
    }
}
