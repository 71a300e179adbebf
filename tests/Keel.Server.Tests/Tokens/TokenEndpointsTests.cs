// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Tokens;

public sealed class TokenEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Create_ShowsTheSecretOnce_AndTheTokenWorksAtOnce()
    {
        using var response = await fixture.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "ci", permissions = new[] { "read", "write" }, scopes = new[] { "ci-svc/*" } }), Ct);
        var created = await response.OkJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("token").GetString()!;
        Assert.StartsWith("keel_", secret, StringComparison.Ordinal);
        Assert.Equal($"/api/v1/tokens/{id}", response.Headers.Location?.ToString());
        Assert.Equal(["read", "write"], created.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("admin", created.GetProperty("created_by").GetString());

        var list = await (await fixture.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync();
        var listed = list.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetString() == id);
        Assert.False(listed.TryGetProperty("token", out _));
        Assert.Equal("active", listed.GetProperty("status").GetString());
        Assert.DoesNotContain(secret, list.GetRawText(), StringComparison.Ordinal);

        using var client = fixture.Server.CreateClient(secret);
        var put = await (await client.PutAsync(ConfigPath("ci-svc", "dev", "k"), new { config_value = "v" })).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("ci", put.GetProperty("updated_by").GetString());
    }

    [Fact]
    public async Task Revoke_StopsTheTokenBeforeAnswering_AndASecondRevokeIs404()
    {
        using var client = await fixture.Server.CreateTokenClientAsync(["read"], ["*/*"], "short-lived");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/config/x/y", Ct)).StatusCode);
        var tokens = await (await fixture.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync();
        var id = tokens.GetProperty("tokens").EnumerateArray().Last(t => t.GetProperty("name").GetString() == "short-lived").GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Client.DeleteAsync("/api/v1/tokens/" + id, Ct)).StatusCode);

        using var after = await client.GetAsync("/api/v1/config/x/y", Ct);
        await after.ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("invalid_token", after.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await (await fixture.Client.DeleteAsync("/api/v1/tokens/" + id, Ct)).ProblemAsync(HttpStatusCode.NotFound, "token_not_found");
        var listed = await (await fixture.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync();
        Assert.Equal("revoked", listed.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetString() == id).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Create_EvaluationToken_IsBoundToOneServiceAndEnvironment()
    {
        var created = await (await fixture.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "web", kind = "evaluation", service_name = "shop", environment = "prod" }), Ct)).OkJsonAsync(HttpStatusCode.Created);

        Assert.Equal("evaluation", created.GetProperty("kind").GetString());
        Assert.Equal("shop", created.GetProperty("service_name").GetString());
        Assert.False(created.TryGetProperty("permissions", out _));
        using var client = fixture.Server.CreateClient(created.GetProperty("token").GetString());
        await (await client.GetAsync("/api/v1/config/shop/prod", Ct)).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory]
    [InlineData("{\"permissions\": [\"read\"], \"scopes\": [\"*/*\"]}", "name")]
    [InlineData("{\"name\": \"x\", \"scopes\": [\"*/*\"]}", "permissions")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\", \"root\"], \"scopes\": [\"*/*\"]}", "permissions[1]")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\"]}", "scopes")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\"], \"scopes\": [\"svc\"]}", "scopes[0]")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\"], \"scopes\": [\"Svc/*\"]}", "scopes[0]")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\"], \"scopes\": [\"a/b/c\"]}", "scopes[0]")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\"], \"scopes\": [\"*/*\"], \"expires_at\": \"2001-01-01T00:00:00Z\"}", "expires_at")]
    [InlineData("{\"name\": \"x\", \"kind\": \"robot\", \"permissions\": [\"read\"], \"scopes\": [\"*/*\"]}", "kind")]
    [InlineData("{\"name\": \"x\", \"kind\": \"evaluation\", \"service_name\": \"shop\"}", "environment")]
    [InlineData("{\"name\": \"x\", \"kind\": \"evaluation\", \"service_name\": \"shop\", \"environment\": \"prod\", \"scopes\": [\"*/*\"]}", "scopes")]
    [InlineData("{\"name\": \"x\", \"permissions\": [\"read\"], \"scopes\": [\"*/*\"], \"service_name\": \"shop\"}", "service_name")]
    public async Task Create_WithAnInvalidField_Answers400NamingIt_AndCreatesNothing(string body, string field)
    {
        var before = (await (await fixture.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync()).GetProperty("tokens").GetArrayLength();

        var problem = await (await fixture.Client.PostAsync("/api/v1/tokens", Json(body), Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Contains(field, problem.ErrorPaths());
        Assert.Equal(before, (await (await fixture.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync()).GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public async Task ExpiredToken_Answers401()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await KeelTestServer.StartAsync(null, builder => builder.Services.AddSingleton<TimeProvider>(time));
        var expires = time.GetUtcNow().AddMinutes(10);
        var created = await (await server.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "brief", permissions = new[] { "read" }, scopes = new[] { "*/*" }, expires_at = expires }), Ct)).OkJsonAsync(HttpStatusCode.Created);
        using var client = server.CreateClient(created.GetProperty("token").GetString());
        time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(10));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/config/x/y", Ct)).StatusCode);

        time.Advance(TimeSpan.FromTicks(10));

        await (await client.GetAsync("/api/v1/config/x/y", Ct)).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        var listed = await (await server.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync();
        Assert.Equal("expired", listed.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "brief").GetProperty("status").GetString());
    }
}
