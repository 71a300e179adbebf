// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Flags;

/// <summary>OFREP over HTTP with an evaluation token: shapes, reasons and codes as the specification and flagd give them.</summary>
public class OfrepEndpointsTests(ServerFixture fixture, OfrepEndpointsTests.CorsFixture cors)
    : IClassFixture<ServerFixture>, IClassFixture<OfrepEndpointsTests.CorsFixture>
{
    const string AllowedOrigin = "https://app.example";

    /// <summary>A server that lets two origins call OFREP from a browser.</summary>
    public sealed class CorsFixture : ServerFixture
    {
        protected override string[] Settings =>
            ["Keel:Ofrep:Cors:AllowedOrigins:0=" + AllowedOrigin, "Keel:Ofrep:Cors:AllowedOrigins:1=http://localhost:3000"];
    }

    const string File = """
        {
          "metadata": {"flagSetId": "web"},
          "flags": {
            "dark-mode": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
                          "targeting": {"if": [{"ends_with": [{"var": "email"}, "@keel.example"]}, "on", null]}},
            "banner": {"state": "ENABLED", "variants": {"a": "Hello", "b": "Welcome"}, "defaultVariant": "a",
                       "targeting": {"fractional": [["a", 50], ["b", 50]]}},
            "limits": {"state": "ENABLED", "variants": {"low": {"rps": 10}, "high": {"rps": 100}}, "defaultVariant": "low"},
            "retired": {"state": "DISABLED", "variants": {"x": 1}, "defaultVariant": "x"},
            "code-default": {"state": "ENABLED", "variants": {"x": 1.5}, "defaultVariant": null},
            "broken": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x", "targeting": {"if": [true, "nope"]}}
          }
        }
        """;

    readonly HttpClient _admin = fixture.Client;

    [Fact]
    public async Task ARuleThatWouldExhaustTheServer_FailsAsGeneral_AndTheOtherFlagsAreStillEvaluated()
    {
        var service = Service();
        var numbers = "[" + string.Join(",", Enumerable.Range(0, 30)) + "]";
        var flags = $$$"""
            {"flags": {
              "doubling": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": "a",
                           "targeting": {"reduce": [{{{numbers}}}, {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "ab"]}},
              "fine": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}
            }}
            """;
        (await _admin.PostAsync($"/api/v1/flags/{service}/prod/import", Json(flags), Ct)).EnsureSuccessStatusCode();
        using var evaluator = await fixture.Server.CreateEvaluationClientAsync(service, "prod");

        using var one = await evaluator.PostAsync("/ofrep/v1/evaluate/flags/doubling", Json("{}"), Ct);
        using var bulk = await evaluator.PostAsync("/ofrep/v1/evaluate/flags", Json("{}"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, one.StatusCode);
        var error = await one.ReadJsonAsync();
        Assert.Equal("GENERAL", error.GetProperty("errorCode").GetString());
        Assert.StartsWith("The targeting rule of flag 'doubling' needs more work than one evaluation may do", error.GetProperty("errorDetails").GetString(), StringComparison.Ordinal);
        var items = (await bulk.OkJsonAsync()).GetProperty("flags").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!);
        Assert.Equal("GENERAL", items["doubling"].GetProperty("errorCode").GetString());
        Assert.True(items["fine"].GetProperty("value").GetBoolean());
    }

    [Fact]
    public async Task OneFlag_IsEvaluatedForTheContext_WithValueVariantReasonAndMetadata()
    {
        using var client = await EvaluationClientAsync();

        var staff = await EvaluateAsync(client, "dark-mode", new { context = new { targetingKey = "u1", email = "ann@keel.example" } });
        var other = await EvaluateAsync(client, "dark-mode", new { context = new { email = "bob@example.com" } });
        var limits = await EvaluateAsync(client, "limits", new { });

        Assert.Equal((true, "on", "TARGETING_MATCH"), (staff.GetProperty("value").GetBoolean(), staff.GetProperty("variant").GetString(), staff.GetProperty("reason").GetString()));
        Assert.Equal("web", staff.GetProperty("metadata").GetProperty("flagSetId").GetString());
        Assert.Equal((false, "DEFAULT"), (other.GetProperty("value").GetBoolean(), other.GetProperty("reason").GetString()));
        Assert.Equal(("STATIC", 10), (limits.GetProperty("reason").GetString(), limits.GetProperty("value").GetProperty("rps").GetInt32()));
        Assert.Equal("10", limits.GetProperty("value").GetProperty("rps").GetRawText());
    }

    [Fact]
    public async Task AFractionalSplit_IsStablePerTargetingKey_AndSplitsUsers()
    {
        using var client = await EvaluationClientAsync();
        var variants = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            var first = await EvaluateAsync(client, "banner", new { context = new { targetingKey = $"user-{i}" } });
            var second = await EvaluateAsync(client, "banner", new { context = new { targetingKey = $"user-{i}" } });
            Assert.Equal(first.GetProperty("variant").GetString(), second.GetProperty("variant").GetString());
            variants.Add(first.GetProperty("variant").GetString()!);
        }

        var noKey = await EvaluateAsync(client, "banner", new { context = new { } });

        Assert.Equal(["a", "b"], variants.Distinct().Order());
        Assert.Equal(("a", "DEFAULT"), (noKey.GetProperty("variant").GetString(), noKey.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task DisabledAndCodeDefaultFlags_AnswerWithoutAValue_AndErrorsCarryTheirCodes()
    {
        using var client = await EvaluationClientAsync();

        var retired = await EvaluateAsync(client, "retired", new { });
        var codeDefault = await EvaluateAsync(client, "code-default", new { });
        using var broken = await client.PostAsync("/ofrep/v1/evaluate/flags/broken", Json("{}"), Ct);
        using var missing = await client.PostAsync("/ofrep/v1/evaluate/flags/none", Json("{}"), Ct);
        using var badContext = await client.PostAsync("/ofrep/v1/evaluate/flags/banner", Json("""{"context": "user-1"}"""), Ct);
        using var notJson = await client.PostAsync("/ofrep/v1/evaluate/flags/banner", Json("{"), Ct);
        using var empty = await client.PostAsync("/ofrep/v1/evaluate/flags/limits", new ByteArrayContent([]), Ct);
        using var surrogate = await client.PostAsync("/ofrep/v1/evaluate/flags/banner", Json("""{"context": {"name": "\ud800"}}"""), Ct);

        Assert.Equal("DISABLED", retired.GetProperty("reason").GetString());
        Assert.False(retired.TryGetProperty("value", out _));
        Assert.False(retired.TryGetProperty("variant", out _));
        Assert.Equal("DEFAULT", codeDefault.GetProperty("reason").GetString());
        Assert.False(codeDefault.TryGetProperty("value", out _));
        await AssertErrorAsync(broken, HttpStatusCode.BadRequest, "broken", "GENERAL");
        await AssertErrorAsync(missing, HttpStatusCode.NotFound, "none", "FLAG_NOT_FOUND");
        await AssertErrorAsync(badContext, HttpStatusCode.BadRequest, "banner", "INVALID_CONTEXT");
        await AssertErrorAsync(notJson, HttpStatusCode.BadRequest, "banner", "INVALID_CONTEXT");
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        await AssertErrorAsync(surrogate, HttpStatusCode.BadRequest, "banner", "INVALID_CONTEXT");
    }

    [Fact]
    public async Task Bulk_EvaluatesEveryFlag_WithAnETagThatFollowsTheResults()
    {
        using var client = await EvaluationClientAsync();
        var staff = new { context = new { targetingKey = "u1", email = "ann@keel.example" } };

        using var first = await client.PostAsync("/ofrep/v1/evaluate/flags", Json(staff), Ct);
        var etag = first.Headers.ETag ?? throw new InvalidOperationException($"{(int)first.StatusCode} {first.Headers} {await first.Content.ReadAsStringAsync(Ct)}");
        using var same = await PostWithIfNoneMatchAsync(client, staff, etag);
        using var otherContext = await PostWithIfNoneMatchAsync(client, new { context = new { targetingKey = "u1", email = "bob@example.com" } }, etag);
        using var trailingSlash = await client.PostAsync("/ofrep/v1/evaluate/flags/", Json(staff), Ct);
        var body = await first.OkJsonAsync();

        var flags = body.GetProperty("flags").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!);
        Assert.Equal(["banner", "broken", "code-default", "dark-mode", "limits", "retired"], flags.Keys.Order(StringComparer.Ordinal));
        Assert.True(flags["dark-mode"].GetProperty("value").GetBoolean());
        Assert.Equal("GENERAL", flags["broken"].GetProperty("errorCode").GetString());
        Assert.Equal("DISABLED", flags["retired"].GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.NotModified, same.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherContext.StatusCode);
        Assert.NotEqual(etag, otherContext.Headers.ETag);
        Assert.Equal(etag, trailingSlash.Headers.ETag);
    }

    [Fact]
    public async Task OnlyEvaluationTokens_Evaluate_AndOnlyTheirOwnServiceAndEnvironment()
    {
        var service = Service();
        await _admin.PostAsync($"/api/v1/flags/{service}/dev/import", Json(File), Ct);
        await _admin.PostAsync($"/api/v1/flags/{service}/prod/import", Json("""{"flags": {"only-prod": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x"}}}"""), Ct);
        using var dev = await EvaluationClientAsync(service, "dev");
        using var anonymous = fixture.Server.CreateClient(null);

        using var byAdmin = await _admin.PostAsync("/ofrep/v1/evaluate/flags/limits", Json("{}"), Ct);
        using var unauthenticated = await anonymous.PostAsync("/ofrep/v1/evaluate/flags/limits", Json("{}"), Ct);
        using var otherEnvironment = await dev.PostAsync("/ofrep/v1/evaluate/flags/only-prod", Json("{}"), Ct);
        using var configApi = await dev.GetAsync($"/api/v1/flags/{service}/dev", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, byAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherEnvironment.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, configApi.StatusCode);
    }

    [Theory]
    [InlineData("%zz", "%25zz")]
    [InlineData("50%", "50%25")]
    [InlineData("a%2Fb", "a%252Fb")]
    [InlineData("%FF", "%25FF")]
    public async Task OneFlag_IsNotFound_AtAPathThatGivesItsKeyASecondUrl(string ambiguous, string escaped)
    {
        var service = Service();
        var flag = """{"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on"}""";
        (await _admin.PutAsync($"/api/v1/flags/{service}/prod/{escaped}", Json(flag), Ct)).EnsureSuccessStatusCode();
        var token = await fixture.Server.CreateEvaluationTokenAsync(service, "prod");

        var exact = await RawEvaluateAsync(fixture.Server, $"/ofrep/v1/evaluate/flags/{escaped}", token);
        var second = await RawEvaluateAsync(fixture.Server, $"/ofrep/v1/evaluate/flags/{ambiguous}", token);

        Assert.True(exact.Status == 200, exact.ToString());
        Assert.True(second.Status == 404, second.ToString());
        using var error = JsonDocument.Parse(second.Body);
        Assert.Equal("FLAG_NOT_FOUND", error.RootElement.GetProperty("errorCode").GetString());
    }

    [Theory]
    [InlineData("/ofrep/v1/evaluate/flags")]
    [InlineData("/ofrep/v1/evaluate/flags/dark-mode")]
    public async Task Preflight_FromAnAllowedOrigin_Answers204WithTheCorsHeaders_WithoutAToken(string path)
    {
        using var anonymous = cors.Server.CreateClient(null);

        using var preflight = await PreflightAsync(anonymous, path, AllowedOrigin, "authorization,content-type,if-none-match");

        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(AllowedOrigin, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", HeaderList(preflight, "Access-Control-Allow-Methods"));
        Assert.Equal(
            ["authorization", "content-type", "if-none-match"],
            HeaderList(preflight, "Access-Control-Allow-Headers").Select(h => h.ToLowerInvariant()).Order(StringComparer.Ordinal));
        Assert.Equal("600", Header(preflight, "Access-Control-Max-Age"));
        Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Preflight_FromAnotherOrigin_GetsNoCorsHeaders()
    {
        using var anonymous = cors.Server.CreateClient(null);

        using var other = await PreflightAsync(anonymous, "/ofrep/v1/evaluate/flags", "https://evil.example", "authorization,content-type");
        using var lookalike = await PreflightAsync(anonymous, "/ofrep/v1/evaluate/flags", "https://app.example.evil.example", "authorization");

        Assert.Empty(CorsHeaders(other));
        Assert.Empty(CorsHeaders(lookalike));
    }

    [Fact]
    public async Task Evaluate_FromAnAllowedOrigin_CarriesTheOriginAndExposesTheETag()
    {
        var service = Service();
        await (await cors.Client.PostAsync($"/api/v1/flags/{service}/dev/import", Json(File), Ct)).OkJsonAsync();
        using var client = await cors.Server.CreateEvaluationClientAsync(service, "dev");

        using var bulk = await client.SendAsync(HttpMethod.Post, "/ofrep/v1/evaluate/flags", new { context = new { } }, ("Origin", AllowedOrigin));
        using var one = await client.SendAsync(HttpMethod.Post, "/ofrep/v1/evaluate/flags/limits", new { }, ("Origin", AllowedOrigin));
        using var missing = await client.SendAsync(HttpMethod.Post, "/ofrep/v1/evaluate/flags/none", new { }, ("Origin", AllowedOrigin));
        using var anonymous = cors.Server.CreateClient(null);
        using var unauthenticated = await anonymous.SendAsync(HttpMethod.Post, "/ofrep/v1/evaluate/flags", new { }, ("Origin", AllowedOrigin));
        using var otherOrigin = await client.SendAsync(HttpMethod.Post, "/ofrep/v1/evaluate/flags", new { }, ("Origin", "https://evil.example"));

        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.Equal(AllowedOrigin, Header(bulk, "Access-Control-Allow-Origin"));
        Assert.Contains("ETag", HeaderList(bulk, "Access-Control-Expose-Headers"));
        Assert.NotNull(bulk.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(AllowedOrigin, Header(one, "Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(AllowedOrigin, Header(missing, "Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(AllowedOrigin, Header(unauthenticated, "Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.OK, otherOrigin.StatusCode);
        Assert.Empty(CorsHeaders(otherOrigin));
    }

    [Fact]
    public async Task ConfigurationApi_SendsNoCorsHeaders_EvenToAnAllowedOrigin()
    {
        var service = Service();
        await cors.Client.PutValueAsync(service, "dev", "k", "v");

        using var read = await cors.Client.SendAsync(HttpMethod.Get, ConfigPath(service, "dev", "k"), null, ("Origin", AllowedOrigin));
        using var flags = await cors.Client.SendAsync(HttpMethod.Get, $"/api/v1/flags/{service}/dev", null, ("Origin", AllowedOrigin));
        using var anonymous = cors.Server.CreateClient(null);
        using var preflight = await PreflightAsync(anonymous, ConfigPath(service, "dev", "k"), AllowedOrigin, "authorization");
        using var health = await cors.Client.SendAsync(HttpMethod.Get, "/healthz", null, ("Origin", AllowedOrigin));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Empty(CorsHeaders(read));
        Assert.Equal(HttpStatusCode.OK, flags.StatusCode);
        Assert.Empty(CorsHeaders(flags));
        Assert.NotEqual(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Empty(CorsHeaders(preflight));
        Assert.Empty(CorsHeaders(health));
    }

    [Fact]
    public async Task Cors_SendsNoHeadersAnywhere_ByDefault()
    {
        using var client = await EvaluationClientAsync();
        using var anonymous = fixture.Server.CreateClient(null);

        using var preflight = await PreflightAsync(anonymous, "/ofrep/v1/evaluate/flags", AllowedOrigin, "authorization,content-type");
        using var evaluation = await client.SendAsync(HttpMethod.Post, "/ofrep/v1/evaluate/flags", new { }, ("Origin", AllowedOrigin));

        Assert.NotEqual(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Empty(CorsHeaders(preflight));
        Assert.Equal(HttpStatusCode.OK, evaluation.StatusCode);
        Assert.Empty(CorsHeaders(evaluation));
    }

    [Fact]
    public async Task Preflight_FromAnyOrigin_IsAllowedWithAStar()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Ofrep:Cors:AllowedOrigins:0=*", "Keel:Ofrep:Cors:MaxAge=00:01:00");
        using var anonymous = server.CreateClient(null);

        using var preflight = await PreflightAsync(anonymous, "/ofrep/v1/evaluate/flags", "https://anywhere.example", "authorization,content-type");

        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal("*", Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal("60", Header(preflight, "Access-Control-Max-Age"));
        Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
    }

    static Task<HttpResponseMessage> PreflightAsync(HttpClient client, string path, string origin, string requestHeaders) =>
        client.SendAsync(
            HttpMethod.Options,
            path,
            null,
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", requestHeaders));

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    static List<string> HeaderList(HttpResponseMessage response, string name) =>
        [.. (Header(response, name) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    static List<string> CorsHeaders(HttpResponseMessage response) =>
        [.. response.Headers.Select(h => h.Key).Where(name => name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))];

    static Task<RawResponse> RawEvaluateAsync(KeelTestServer server, string target, string token) =>
        RawHttp.SendAsync(
            server.BaseAddress,
            $"POST {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close",
            "{}");

    async Task<HttpClient> EvaluationClientAsync(string? service = null, string environment = "dev")
    {
        if (service is null)
        {
            service = Service("ofrep");
            await (await _admin.PostAsync($"/api/v1/flags/{service}/{environment}/import", Json(File), Ct)).OkJsonAsync();
        }

        return await fixture.Server.CreateEvaluationClientAsync(service, environment);
    }

    static async Task<JsonElement> EvaluateAsync(HttpClient client, string key, object body) =>
        await (await client.PostAsync($"/ofrep/v1/evaluate/flags/{key}", Json(body), Ct)).OkJsonAsync();

    static async Task<HttpResponseMessage> PostWithIfNoneMatchAsync(HttpClient client, object body, EntityTagHeaderValue etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags") { Content = Json(body) };
        request.Headers.IfNoneMatch.Add(etag);
        return await client.SendAsync(request, Ct);
    }

    static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string key, string code)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal((key, code), (body.RootElement.GetProperty("key").GetString(), body.RootElement.GetProperty("errorCode").GetString()));
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("errorDetails").GetString()));
    }
}
