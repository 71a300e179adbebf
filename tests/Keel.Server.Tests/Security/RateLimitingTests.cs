// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Security;

public sealed class RateLimitingTests
{
    [Fact]
    public async Task PerTokenLimit_Answers429WithRetryAfter_AndLeavesOtherTokensAlone()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:RateLimiting:PerTokenPermitsPerSecond=1", "Keel:RateLimiting:PerTokenBurst=3");
        using var limited = await server.CreateTokenClientAsync(["read"], ["*/*"]);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? rejected = null;
        for (var i = 0; i < 10 && rejected is null; i++)
        {
            var response = await limited.GetAsync("/api/v1/config/a/b", Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rejected = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(rejected);
        using (rejected)
        {
            Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 3);
            Assert.True(int.Parse(rejected.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
            await rejected.ProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        }

        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/api/v1/config/a/b", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await limited.GetAsync("/healthz", Ct)).StatusCode);
    }

    [Fact]
    public async Task PerAddressLimit_ThrottlesRequestsWithoutAValidToken()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:RateLimiting:PerAddressPermitsPerSecond=2");
        using var guesser = server.CreateClient("keel_guess");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await guesser.GetAsync("/api/v1/config/a/b", Ct)).StatusCode);
        }

        Assert.Contains(HttpStatusCode.Unauthorized, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task Defaults_DoNotLimit()
    {
        await using var server = await KeelTestServer.StartAsync();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => server.Client.GetAsync("/api/v1/config/a/b", Ct)));

        Assert.All(statuses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }
}
