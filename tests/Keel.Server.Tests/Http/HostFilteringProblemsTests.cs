// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Tests.Infrastructure;

namespace Keel.Server.Tests.Http;

/// <summary>A server that answers only for <c>keel.test</c>, as one with <c>AllowedHosts</c> set does.</summary>
public sealed class HostFilteringFixture : ServerFixture
{
    protected override string[] Settings => ["AllowedHosts=keel.test"];
}

public sealed class HostFilteringProblemsTests(HostFilteringFixture fixture) : IClassFixture<HostFilteringFixture>
{
    [Theory]
    [InlineData("/healthz")]
    [InlineData("/api/v1/config/svc/dev/k")]
    [InlineData("/nothing-here")]
    public async Task Request_ForAHostNotAllowed_Answers400WithAProblem(string path)
    {
        var answer = await RawHttp.SendAsync(
            fixture.Server.BaseAddress,
            $"GET {path} HTTP/1.1\r\nHost: other.test\r\nAuthorization: Bearer {TestTokens.Admin}\r\nConnection: close");

        Assert.StartsWith("HTTP/1.1 400 ", answer.StatusLine, StringComparison.Ordinal);
        var problem = answer.AssertProblem(400, "malformed_request");
        Assert.Contains("AllowedHosts", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(path, problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task Request_ForAHostNotAllowed_AnswersHeadWithoutABody()
    {
        var answer = await RawHttp.SendAsync(fixture.Server.BaseAddress, "HEAD /healthz HTTP/1.1\r\nHost: other.test\r\nConnection: close");

        Assert.StartsWith("HTTP/1.1 400 ", answer.StatusLine, StringComparison.Ordinal);
        Assert.Equal("", answer.Body);
    }

    [Fact]
    public async Task Request_ForAnAllowedHost_IsServed()
    {
        var answer = await RawHttp.SendAsync(fixture.Server.BaseAddress, "GET /healthz HTTP/1.1\r\nHost: KEEL.test:8080\r\nConnection: close");

        Assert.StartsWith("HTTP/1.1 200 ", answer.StatusLine, StringComparison.Ordinal);
        Assert.Equal("Healthy", answer.Body);
    }
}
