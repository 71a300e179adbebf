// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Schemas;

public class SchemaAndSearchEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    const string PortSchema = """{"type": "integer", "minimum": 1, "maximum": 65535}""";
    const string DbSchema = """{"type": "object", "required": ["host"], "properties": {"host": {"type": "string"}, "port": {"type": "integer"}}}""";

    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Schemas_ArePutReadListedAndDeleted_WithVersions()
    {
        var service = Service();

        var created = await (await _client.PutAsync(SchemaPath(service, "db.port"), Json(PortSchema), Ct)).OkJsonAsync(HttpStatusCode.Created);
        var replaced = await (await _client.PutAsync(SchemaPath(service, "db.port"), Json(PortSchema), Ct)).OkJsonAsync();
        await (await _client.PutAsync(SchemaPath(service, "db.*"), Json("{}"), Ct)).OkJsonAsync(HttpStatusCode.Created);
        using var read = await _client.GetAsync(SchemaPath(service, "db.port"), Ct);
        var list = await (await _client.GetAsync($"/api/v1/schemas/{service}", Ct)).OkJsonAsync();
        using var deleted = await _client.DeleteAsync(SchemaPath(service, "db.*"), Ct);
        using var missing = await _client.GetAsync(SchemaPath(service, "db.*"), Ct);
        using var deletedAgain = await _client.DeleteAsync(SchemaPath(service, "db.*"), Ct);

        Assert.Equal((1, 2), (created.GetProperty("version").GetInt64(), replaced.GetProperty("version").GetInt64()));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(PortSchema, await read.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["db.*", "db.port"], list.GetProperty("schemas").EnumerateArray().Select(s => s.GetProperty("key_pattern").GetString()));
        Assert.Equal("integer", list.GetProperty("schemas")[1].GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await missing.ProblemAsync(HttpStatusCode.NotFound, "schema_not_found");
        await deletedAgain.ProblemAsync(HttpStatusCode.NotFound, "schema_not_found");
        var audit = await (await _client.GetAsync($"/api/v1/audit?service_name={service}", Ct)).OkJsonAsync();
        Assert.Equal(
            ["schema.delete", "schema.put", "schema.put", "schema.put"],
            audit.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("action").GetString()));
    }

    [Theory]
    [InlineData("""{"$ref": "http://127.0.0.1:9/schema.json"}""")]
    [InlineData("""{"$ref": "/etc/passwd"}""")]
    [InlineData("[1, 2]")]
    [InlineData("""{"type": "nope"}""")]
    [InlineData("""{"properties": {"port": {"minimum": "1"}}}""")]
    public async Task Schemas_ThatAreInvalidOrReachOutside_AreRefused(string schema)
    {
        var service = Service();

        using var response = await _client.PutAsync(SchemaPath(service, "k"), Json(schema), Ct);

        Assert.True(response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest, $"{(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await (await _client.GetAsync($"/api/v1/schemas/{service}", Ct)).OkJsonAsync()).GetProperty("schemas").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"title": "\ud800"}""")]
    [InlineData("""{"type": "string", "pattern": "\ud800"}""")]
    [InlineData("""{"properties": {"\udc00": {"type": "string"}}}""")]
    [InlineData("""{"enum": ["a", "\ud800"]}""")]
    [InlineData("""{"x-custom": {"deep": ["\ud800"]}}""")]
    public async Task Schemas_HoldingAnUnpairedSurrogate_AreRefusedEverywhere_AndTheListingStaysReadable(string schema)
    {
        var service = Service();
        await _client.PutValueAsync(service, "dev", "k", "v");
        await (await _client.PutAsync(SchemaPath(service, "other"), Json(PortSchema), Ct)).OkJsonAsync(HttpStatusCode.Created);

        using var put = await _client.PutAsync(SchemaPath(service, "k"), Json(schema), Ct);
        using var check = await _client.PostAsync(SchemaPath(service, "k") + "/check", Json(schema), Ct);
        using var list = await _client.GetAsync($"/api/v1/schemas/{service}", Ct);

        await put.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        await check.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Equal(["other"], (await list.OkJsonAsync()).GetProperty("schemas").EnumerateArray().Select(s => s.GetProperty("key_pattern").GetString()));
    }

    [Fact]
    public async Task EveryWritePath_ValidatesAgainstTheMostSpecificSchema_AndWritesNothingOnAViolation()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "dev", "db.port"), new { config_value = "5432", value_type = "number" });
        await _client.PutAsync(ConfigPath(service, "dev", "db.port"), new { config_value = "70000", value_type = "number" });
        await _client.PutAsync(SchemaPath(service, "db.*"), Json("""{"type": "string"}"""), Ct);
        await _client.PutAsync(SchemaPath(service, "db.port"), Json(PortSchema), Ct);
        await _client.PutAsync(SchemaPath(service, "db.conn"), Json(DbSchema), Ct);

        using var put = await _client.PutAsync(ConfigPath(service, "dev", "db.port"), new { config_value = "0", value_type = "number" });
        using var okPut = await _client.PutAsync(ConfigPath(service, "dev", "db.port"), new { config_value = "6543", value_type = "number" });
        using var json = await _client.PutAsync(ConfigPath(service, "dev", "db.conn"), new { config_value = """{"port": "x"}""", value_type = "json" });
        using var batch = await _client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "dev",
            configs = new object[] { new { config_key = "db.user", config_value = "u" }, new { config_key = "db.port", config_value = 99999, value_type = "number" } },
        }), Ct);
        using var import = await _client.PostAsync($"/api/v1/config/{service}/dev/import", Json("""{"db": {"port": 0, "name": 5}}"""), Ct);
        using var rollback = await _client.PostAsync(ConfigPath(service, "dev", "db.port") + "/rollback", Json(new { target_version = 2 }), Ct);

        var putProblem = await put.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        Assert.Equal(["$.config_value"], putProblem.ErrorPaths());
        Assert.Equal(HttpStatusCode.OK, okPut.StatusCode);
        var jsonProblem = await json.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        Assert.Equal(2, jsonProblem.ErrorPaths().Count);
        Assert.Contains("$.config_value.port", jsonProblem.ErrorPaths());
        Assert.Contains(jsonProblem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("'host'", StringComparison.Ordinal));
        Assert.Equal(["configs[1]."], (await batch.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation")).ErrorPaths());
        Assert.Equal(["$.db.port", "$.db.name"], (await import.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation")).ErrorPaths());
        await rollback.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(ConfigPath(service, "dev", "db.user"), Ct)).StatusCode);
        var port = await (await _client.GetAsync(ConfigPath(service, "dev", "db.port"), Ct)).OkJsonAsync();
        Assert.Equal(("6543", 3L), (port.GetProperty("config_value").GetString(), port.GetProperty("version").GetInt64()));
    }

    [Fact]
    public async Task Check_ListsTheValuesACandidateWouldReject_InEveryEnvironment()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "dev", "db.port"), new { config_value = "5432", value_type = "number" });
        await _client.PutAsync(ConfigPath(service, "prod", "db.port"), new { config_value = "0", value_type = "number" });
        await _client.PutAsync(ConfigPath(service, "prod", "db.host"), new { config_value = "h" });
        await _client.PutAsync(ConfigPath(service, "prod", "db.secret"), new { config_value = "s", encrypt = true });
        await _client.PutAsync(SchemaPath(service, "db.host"), Json("{}"), Ct);

        var result = await (await _client.PostAsync(SchemaPath(service, "db.*") + "/check", Json("""{"type": "integer", "minimum": 1}"""), Ct)).OkJsonAsync();

        var violations = result.GetProperty("violations").EnumerateArray().ToList();
        Assert.Equal(
            [("prod", "db.port"), ("prod", "db.secret")],
            violations.Select(v => (v.GetProperty("environment").GetString(), v.GetProperty("config_key").GetString())));
        Assert.Equal("$", violations[0].GetProperty("errors")[0].GetProperty("path").GetString());
        Assert.Equal(3, result.GetProperty("checked").GetInt32());
        Assert.DoesNotContain(
            (await (await _client.GetAsync($"/api/v1/schemas/{service}", Ct)).OkJsonAsync()).GetProperty("schemas").EnumerateArray(),
            s => s.GetProperty("key_pattern").GetString() == "db.*");
    }

    [Fact]
    public async Task SchemaChanges_NeedAScopeOverEveryEnvironmentOfTheService()
    {
        var service = Service();
        using var prodOnly = await fixture.Server.CreateTokenClientAsync(["read", "write"], [$"{service}/prod"]);
        using var whole = await fixture.Server.CreateTokenClientAsync(["read", "write"], [$"{service}/*"]);

        using var refused = await prodOnly.PutAsync(SchemaPath(service, "k"), Json("{}"), Ct);
        using var allowed = await whole.PutAsync(SchemaPath(service, "k"), Json("{}"), Ct);
        using var read = await prodOnly.GetAsync(SchemaPath(service, "k"), Ct);

        await refused.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task Search_FindsKeysByTextOrPrefix_IgnoringCase_AcrossServices_NeverByValue()
    {
        var tag = Service();
        await _client.PutValueAsync(tag + "-a", "dev", "Payments.Timeout", "x");
        await _client.PutValueAsync(tag + "-b", "prod", "payments.retries", "x");
        await _client.PutValueAsync(tag + "-b", "prod", "other", "payments.in.the.value");
        await _client.PutAsync(ConfigPath(tag + "-b", "prod", "payments.key"), new { config_value = "s", encrypt = true });

        var byPrefix = await Search($"prefix=PAYMENTS.&service_name={tag}-a");
        var byText = await Search($"q=MENTS.&limit=1000");
        var encrypted = await Search($"q=payments&is_encrypted=true&service_name={tag}-b");

        Assert.Equal(["Payments.Timeout"], Keys(byPrefix));
        var mine = byText.GetProperty("results").EnumerateArray().Where(r => r.GetProperty("service_name").GetString()!.StartsWith(tag, StringComparison.Ordinal)).ToList();
        Assert.Equal(["payments.key", "payments.retries", "Payments.Timeout"], mine.Select(r => r.GetProperty("config_key").GetString()));
        Assert.DoesNotContain(mine, r => r.GetProperty("config_key").GetString() == "other");
        var secret = Assert.Single(encrypted.GetProperty("results").EnumerateArray());
        Assert.True(secret.GetProperty("is_encrypted").GetBoolean());
        Assert.False(secret.TryGetProperty("config_value", out _));
    }

    [Fact]
    public async Task Search_SeesOnlyWhatTheTokensScopesCover()
    {
        var tag = Service();
        await _client.PutValueAsync(tag + "-a", "dev", "shared.key", "x");
        await _client.PutValueAsync(tag + "-a", "prod", "shared.key", "x");
        await _client.PutValueAsync(tag + "-b", "dev", "shared.key", "x");
        using var scoped = await fixture.Server.CreateTokenClientAsync(["read"], [$"{tag}-a/prod", $"{tag}-b*/d*"]);

        var found = await (await scoped.GetAsync($"/api/v1/search?prefix=shared.", Ct)).OkJsonAsync();

        Assert.Equal(
            [($"{tag}-a", "prod"), ($"{tag}-b", "dev")],
            found.GetProperty("results").EnumerateArray().Select(r => (r.GetProperty("service_name").GetString(), r.GetProperty("environment").GetString())));
    }

    [Fact]
    public async Task Search_Pages_NeitherRepeatingNorSkippingKeys_WhileWritesHappen()
    {
        var service = Service();
        var keys = Enumerable.Range(0, 60).Select(i => $"k{i:D3}").ToList();
        await _client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "dev",
            configs = keys.Select(k => new { config_key = k, config_value = "v" }).ToArray(),
        }), Ct);

        var seen = new List<string>();
        string? cursor = null;
        var page = 0;
        do
        {
            var body = await Search($"service_name={service}&limit=7" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(Keys(body));
            cursor = body.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : body.GetProperty("next_cursor").GetString();

            // Writes between pages: new keys before and after the position, updates, and a delete of a key already seen.
            await _client.PutValueAsync(service, "dev", $"a-new-{page}", "v");
            await _client.PutValueAsync(service, "dev", $"z-new-{page}", "v");
            await _client.PutValueAsync(service, "dev", keys[Math.Min(page * 7 + 10, keys.Count - 1)], "updated");
            await _client.DeleteAsync(ConfigPath(service, "dev", keys[page]), Ct);
            page++;
        }
        while (cursor is not null && page < 100);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(keys, k => Assert.Contains(k, seen));
        using var bad = await _client.GetAsync("/api/v1/search?cursor=not-a-cursor", Ct);
        await bad.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Search_Pages_PastKeysThatFoldToTheReservedKeyOrAreNotAscii()
    {
        var service = Service();
        string[] keys = ["EXPORT", "Export.x", "café", "日本", "𝄞"];
        using var written = await _client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "dev",
            configs = keys.Select(k => new { config_key = k, config_value = "v" }).ToArray(),
        }), Ct);
        Assert.Equal(HttpStatusCode.OK, written.StatusCode);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var body = await Search($"service_name={service}&limit=1" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(Keys(body));
            cursor = body.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : body.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null && seen.Count <= keys.Length);

        Assert.Equal(keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(BadCursors.Opaque), MemberType = typeof(BadCursors))]
    [MemberData(nameof(ForgedSearchCursors))]
    public async Task Search_WithABadCursor_Answers400NamingIt(string cursor)
    {
        var problem = await (await _client.GetAsync("/api/v1/search?cursor=" + cursor, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["cursor"], problem.ErrorPaths());
    }

    /// <summary>Cursors that decode, but to no position a search can give: each part must be a name or key as the API takes it.</summary>
    public static TheoryData<string> ForgedSearchCursors =>
    [
        BadCursors.Encode("s1:"),
        BadCursors.Encode("s1:k/svc/dev"),
        BadCursors.Encode("s1:k/svc/dev/k/k"),
        BadCursors.Encode("s1:k/Bad!/dev/k"),
        BadCursors.Encode("s1:k/svc/Dev/k"),
        BadCursors.Encode("s1:k/svc/dev/"),
        BadCursors.Encode("s1:/svc/dev/k"),
        BadCursors.Encode("s1:k/svc/dev/a\0b"),
        BadCursors.Encode("s1:k/svc/dev/a\u200Bb"),
        BadCursors.Encode("s1:a b/svc/dev/k"),
        BadCursors.Encode("s1:k/svc/dev#flags/k"),
        BadCursors.Encode("a1:1"),
        BadCursors.Encode("""["k","svc","dev","a\u0000b"]"""),
        BadCursors.Encode("""["k","svc","dev","\ud800"]"""),
    ];

    async Task<JsonElement> Search(string query) => await (await _client.GetAsync("/api/v1/search?" + query, Ct)).OkJsonAsync();

    static List<string> Keys(JsonElement body) => [.. body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("config_key").GetString()!)];

    static string SchemaPath(string service, string pattern) => $"/api/v1/schemas/{service}/{pattern}";
}
