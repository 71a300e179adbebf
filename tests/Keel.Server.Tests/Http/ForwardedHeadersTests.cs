// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Http;

/// <summary><c>X-Forwarded-For</c> is believed from the configured proxies only, and then every per-address rule sees the client.</summary>
public sealed class ForwardedHeadersTests
{
    [Fact]
    public async Task FromAKnownProxy_TheAuditTrailRecordsTheClientsAddress()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:ForwardedHeaders:KnownProxies:0=127.0.0.1");

        // With one proxy trusted, the hop it saw (the last) is the client, whatever the client claimed before it.
        var address = await AuditedAddressAsync(server, "198.51.100.1, 203.0.113.7");

        Assert.Equal("203.0.113.7", address);
    }

    [Fact]
    public async Task FromAKnownNetwork_TheAuditTrailRecordsTheClientsAddress()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:ForwardedHeaders:KnownNetworks:0=127.0.0.0/8");

        Assert.Equal("203.0.113.7", await AuditedAddressAsync(server, "203.0.113.7"));
    }

    [Fact]
    public async Task FromAnyoneElse_TheHeaderIsIgnored()
    {
        await using var unconfigured = await KeelTestServer.StartAsync();
        await using var otherProxy = await KeelTestServer.StartAsync(null, "Keel:ForwardedHeaders:KnownProxies:0=10.0.0.5");

        Assert.Equal("127.0.0.1", await AuditedAddressAsync(unconfigured, "203.0.113.7"));
        Assert.Equal("127.0.0.1", await AuditedAddressAsync(otherProxy, "203.0.113.7"));
    }

    [Fact]
    public async Task FromAKnownProxy_ThePerAddressRateLimitCountsEachClientApart()
    {
        await using var server = await KeelTestServer.StartAsync(
            null,
            "Keel:ForwardedHeaders:KnownProxies:0=127.0.0.1",
            "Keel:RateLimiting:PerAddressPermitsPerSecond=1",
            "Keel:RateLimiting:PerAddressBurst=1");

        Assert.Equal(HttpStatusCode.OK, await StatusFromAsync(server, "203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await StatusFromAsync(server, "203.0.113.8"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusFromAsync(server, "203.0.113.7"));
    }

    [Theory]
    [InlineData("Keel:ForwardedHeaders:KnownProxies:0=proxy.internal", "KnownProxies")]
    [InlineData("Keel:ForwardedHeaders:KnownNetworks:0=10.0.0.0/33", "KnownNetworks")]
    [InlineData("Keel:ForwardedHeaders:ForwardLimit=0", "ForwardLimit")]
    public async Task ABadSetting_StopsTheStart_NamingIt(string setting, string name)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(null, setting));

        Assert.Contains(name, failure.Message, StringComparison.Ordinal);
    }

    static async Task<string?> AuditedAddressAsync(KeelTestServer server, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, ConfigPath(Service(), "prod", "k")) { Content = Json(new { config_value = "v" }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await server.Client.SendAsync(request, Ct);
        var requestId = response.Headers.GetValues("X-Request-Id").Single();
        Assert.True(response.IsSuccessStatusCode, $"PUT answered {(int)response.StatusCode}");

        var records = (await (await server.Client.GetAsync("/api/v1/audit?limit=1000", Ct)).OkJsonAsync()).GetProperty("records").EnumerateArray();
        return records.Single(r => r.GetProperty("request_id").GetString() == requestId).GetProperty("client_address").GetString();
    }

    static async Task<HttpStatusCode> StatusFromAsync(KeelTestServer server, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/cache/stats");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await server.Client.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
