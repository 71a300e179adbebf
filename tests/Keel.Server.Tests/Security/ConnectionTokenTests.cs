// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Security;

/// <summary>
/// What one request on an HTTP/1.1 connection proved is kept for the next on that connection; these run every request over a
/// single connection, so that a proof kept too long, or for the wrong header, would show as an answer the token may not get.
/// </summary>
public sealed class ConnectionTokenTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task OneConnection_CarryingSeveralTokens_AnswersEachAsItsOwnPermissionsAndScopesAllow()
    {
        var service = Service();
        await fixture.Client.PutValueAsync(service, "prod", "k", "v");
        var reader = await CreateTokenAsync(["read"], [$"{service}/prod"]);
        var writer = await CreateTokenAsync(["write"], ["*/*"]);
        using var connection = new OneConnection(fixture.Server.BaseAddress);

        Assert.Equal(HttpStatusCode.OK, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader));
        Assert.Equal(HttpStatusCode.Forbidden, await connection.GetAsync(ConfigPath(service, "dev", "k"), reader));
        Assert.Equal(HttpStatusCode.Forbidden, await connection.GetAsync(ConfigPath(service, "prod", "k"), writer));
        Assert.Equal(HttpStatusCode.OK, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader));

        // A header that differs from the one proved, in its last character or in its length, is checked afresh and refused.
        Assert.Equal(HttpStatusCode.Unauthorized, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader[..^1] + (reader[^1] == 'a' ? 'b' : 'a')));
        Assert.Equal(HttpStatusCode.Unauthorized, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader + "a"));
        Assert.Equal(HttpStatusCode.Unauthorized, await connection.GetAsync(ConfigPath(service, "prod", "k"), null));
        Assert.Equal(HttpStatusCode.OK, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader));
        Assert.Equal(1, connection.Opened);
    }

    [Fact]
    public async Task ATokenRevokedOrAnotherChanged_StopsOrKeepsWorking_OnTheConnectionThatProvedIt()
    {
        var service = Service();
        await fixture.Client.PutValueAsync(service, "prod", "k", "v");
        var (reader, readerId) = await CreateTokenWithIdAsync(["read"], ["*/*"]);
        using var connection = new OneConnection(fixture.Server.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader));

        // Another token's creation replaces what the proof was made against; the reader is checked again and still passes.
        await CreateTokenAsync(["read"], ["*/*"]);
        Assert.Equal(HttpStatusCode.OK, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader));

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Client.DeleteAsync("/api/v1/tokens/" + readerId, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await connection.GetAsync(ConfigPath(service, "prod", "k"), reader));
        Assert.Equal(1, connection.Opened);
    }

    async Task<string> CreateTokenAsync(string[] permissions, string[] scopes) => (await CreateTokenWithIdAsync(permissions, scopes)).Secret;

    async Task<(string Secret, string Id)> CreateTokenWithIdAsync(string[] permissions, string[] scopes)
    {
        var created = await (await fixture.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "connection", permissions, scopes }), Ct)).OkJsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("token").GetString()!, created.GetProperty("id").GetString()!);
    }

    /// <summary>A client held to one HTTP/1.1 connection, which counts the connections it opens.</summary>
    sealed class OneConnection : IDisposable
    {
        readonly HttpClient _client;
        int _opened;

        public OneConnection(Uri baseAddress)
        {
            var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = 1,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                ConnectCallback = async (context, cancellationToken) =>
                {
                    Interlocked.Increment(ref _opened);
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            _client = new HttpClient(handler) { BaseAddress = baseAddress };
        }

        public int Opened => Volatile.Read(ref _opened);

        public async Task<HttpStatusCode> GetAsync(string path, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await _client.SendAsync(request, Ct);
            await response.Content.ReadAsByteArrayAsync(Ct);
            return response.StatusCode;
        }

        public void Dispose() => _client.Dispose();
    }
}
