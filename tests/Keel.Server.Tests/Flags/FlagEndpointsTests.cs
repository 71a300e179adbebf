// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Http.Headers;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Flags;

public class FlagEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    const string Rollout = """
        {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
         "targeting": {"fractional": [["on", 10], ["off", 90]]}, "metadata": {"owner": "checkout"}}
        """;

    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task AFlag_IsPutReadReplacedListedAndDeleted_WithVersionsAndHistory()
    {
        var service = Service();
        var path = FlagPath(service, "dev", "new-checkout");

        var created = await (await _client.PutAsync(path, Json(Rollout), Ct)).OkJsonAsync(HttpStatusCode.Created);
        var replaced = await (await _client.PutAsync(path, Json("""{"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}"""), Ct)).OkJsonAsync();
        using var read = await _client.GetAsync(path, Ct);
        var list = await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).OkJsonAsync();
        var history = await (await _client.GetAsync(path + "/history", Ct)).OkJsonAsync();
        var rolledBack = await (await _client.PostAsync(path + "/rollback", Json(new { target_version = 1 }), Ct)).OkJsonAsync();
        var deleted = await (await _client.DeleteAsync(path, Ct)).OkJsonAsync();
        using var missing = await _client.GetAsync(path, Ct);
        using var deletedAgain = await _client.DeleteAsync(path, Ct);

        Assert.Equal((1, 2, 3, 4), (created.GetProperty("version").GetInt64(), replaced.GetProperty("version").GetInt64(), rolledBack.GetProperty("version").GetInt64(), deleted.GetProperty("version").GetInt64()));
        Assert.Equal("dev", created.GetProperty("environment").GetString());
        Assert.Equal("\"2\"", read.Headers.ETag?.Tag);
        Assert.Equal("DISABLED", (await read.OkJsonAsync()).GetProperty("definition").GetProperty("state").GetString());
        Assert.Equal("DISABLED", list.GetProperty("flags").GetProperty("new-checkout").GetProperty("state").GetString());
        Assert.Equal(10, rolledBack.GetProperty("definition").GetProperty("targeting").GetProperty("fractional")[0][1].GetInt32());
        Assert.Equal("checkout", rolledBack.GetProperty("definition").GetProperty("metadata").GetProperty("owner").GetString());
        Assert.Equal([2L, 1L], history.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt64()));
        await missing.ProblemAsync(HttpStatusCode.NotFound, "flag_not_found");
        var problem = await deletedAgain.ProblemAsync(HttpStatusCode.NotFound, "flag_not_found");
        Assert.DoesNotContain("#", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var audit = await (await _client.GetAsync($"/api/v1/audit?service_name={service}", Ct)).OkJsonAsync();
        Assert.Equal(
            [("flag.delete", "dev"), ("flag.rollback", "dev"), ("flag.update", "dev"), ("flag.create", "dev")],
            audit.GetProperty("records").EnumerateArray().Select(r => (r.GetProperty("action").GetString(), r.GetProperty("environment").GetString())));
    }

    [Fact]
    public async Task Flags_NeverMixWithConfiguration_OfTheSameKey()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "dev", "beta"), new { config_value = "a config" });
        await _client.PutAsync(FlagPath(service, "dev", "beta"), Json(Rollout), Ct);

        var config = await (await _client.GetAsync(ConfigPath(service, "dev", "beta"), Ct)).OkJsonAsync();
        var configs = await (await _client.GetAsync($"/api/v1/config/{service}/dev", Ct)).OkJsonAsync();
        var search = await (await _client.GetAsync($"/api/v1/search?service_name={service}", Ct)).OkJsonAsync();
        var flags = await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).OkJsonAsync();

        Assert.Equal("a config", config.GetProperty("config_value").GetString());
        Assert.Single(configs.GetProperty("configs").EnumerateArray());
        Assert.Equal("dev", Assert.Single(search.GetProperty("results").EnumerateArray()).GetProperty("environment").GetString());
        Assert.Equal(["beta"], flags.GetProperty("flags").EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("""{"state": "ENABLED", "variants": {"a": 1, "b": "x"}}""", "$.variants.b")]
    [InlineData("""{"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "z"}""", "$.defaultVariant")]
    [InlineData("""{"state": "ENABLED", "variants": {"a": 1}, "targeting": {"if": [{"bogus": []}, "a"]}}""", "$.targeting.if[0].bogus")]
    [InlineData("""{"state": "SOMETIMES", "variants": {"a": 1}}""", "$.state")]
    public async Task InvalidDefinitions_AreRefusedWithTheirPath_AndWriteNothing(string definition, string path)
    {
        var service = Service();

        using var response = await _client.PutAsync(FlagPath(service, "dev", "f"), Json(definition), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Contains(path, problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()));
        using var read = await _client.GetAsync(FlagPath(service, "dev", "f"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task AnInvalidFlagKey_IsNamedAsTheFlagKey()
    {
        using var response = await _client.PutAsync(FlagPath(Service(), "Dev", "a%20b"), Json(Rollout), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
        Assert.Equal(["environment", "flag_key"], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task FlagChanges_ReachFlagWatchers_AndNotConfigurationWatchers()
    {
        var service = Service();
        var start = (await (await _client.GetAsync($"/api/v1/changes?wait=0&since_revision=0&service_name={service}", Ct)).OkJsonAsync()).GetProperty("revision").GetInt64();
        await _client.PutAsync(ConfigPath(service, "dev", "beta"), new { config_value = "x" });
        var flag = await (await _client.PutAsync(FlagPath(service, "dev", "beta"), Json(Rollout), Ct)).OkJsonAsync(HttpStatusCode.Created);

        // A long-poll that does not wait answers from the in-memory feed, which fills in the background after each commit.
        await fixture.Server.FeedSettledAsync();
        var flags = await (await _client.GetAsync($"/api/v1/changes?kind=flag&service_name={service}&environment=dev&since_revision={start}&wait=0", Ct)).OkJsonAsync();
        var configs = await (await _client.GetAsync($"/api/v1/changes?service_name={service}&since_revision={start}&wait=0", Ct)).OkJsonAsync();
        using var badKind = await _client.GetAsync("/api/v1/changes?kind=secret&wait=0", Ct);

        var change = Assert.Single(flags.GetProperty("changes").EnumerateArray());
        Assert.Equal(("dev", "beta", "flag", flag.GetProperty("revision").GetInt64()), (change.GetProperty("environment").GetString(), change.GetProperty("config_key").GetString(), change.GetProperty("kind").GetString(), change.GetProperty("revision").GetInt64()));
        var configChange = Assert.Single(configs.GetProperty("changes").EnumerateArray());
        Assert.False(configChange.TryGetProperty("kind", out _));
        await badKind.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task DefinitionsThatAreNotUnicodeOrNestTooDeeply_AreRefused_AndWriteNothing()
    {
        var service = Service();
        var deep = string.Concat(Enumerable.Repeat("{\"a\": ", 70)) + "1" + new string('}', 70);

        using var surrogate = await _client.PutAsync(FlagPath(service, "dev", "f"), Json("""{"state": "ENABLED", "variants": {"a": "\ud800"}}"""), Ct);
        using var nested = await _client.PutAsync(FlagPath(service, "dev", "f"), Json("""{"state": "ENABLED", "variants": {"a": """ + deep + "}}"), Ct);

        await surrogate.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.True(nested.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, $"{(int)nested.StatusCode}");
        Assert.Equal("application/problem+json", nested.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).OkJsonAsync()).GetProperty("flags").EnumerateObject());
    }

    [Fact]
    public async Task AFlagWatcher_CatchesUpFromTheStore_AfterARestart()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var service = Service();
        try
        {
            long created;
            await using (var first = await KeelTestServer.StartAsync(dataDir))
            {
                await first.Client.PutAsync(ConfigPath(service, "dev", "beta"), new { config_value = "x" });
                created = (await (await first.Client.PutAsync(FlagPath(service, "dev", "beta"), Json(Rollout), Ct)).OkJsonAsync(HttpStatusCode.Created))
                    .GetProperty("revision").GetInt64();
            }

            await using var second = await KeelTestServer.StartAsync(dataDir);
            var flags = await (await second.Client.GetAsync(
                $"/api/v1/changes?kind=flag&service_name={service}&environment=dev&since_revision={created - 2}&wait=0", Ct)).OkJsonAsync();

            var change = Assert.Single(flags.GetProperty("changes").EnumerateArray());
            Assert.Equal((created, "dev", "flag"), (change.GetProperty("revision").GetInt64(), change.GetProperty("environment").GetString(), change.GetProperty("kind").GetString()));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact]
    public async Task AFlagMayBeNamedExport_WhichOnlyConfigurationReserves()
    {
        var service = Service();

        using var put = await _client.PutAsync(FlagPath(service, "dev", "export"), Json(Rollout), Ct);
        var read = await (await _client.GetAsync(FlagPath(service, "dev", "export"), Ct)).OkJsonAsync();

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("export", read.GetProperty("flag_key").GetString());
    }

    [Fact]
    public async Task Writes_HonourIfMatch()
    {
        var service = Service();
        var path = FlagPath(service, "dev", "f");
        await _client.PutAsync(path, Json(Rollout), Ct);
        using var stale = new HttpRequestMessage(HttpMethod.Put, path) { Content = Json(Rollout) };
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue("\"7\""));
        using var current = new HttpRequestMessage(HttpMethod.Put, path) { Content = Json(Rollout) };
        current.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));

        using var refused = await _client.SendAsync(stale, Ct);
        using var accepted = await _client.SendAsync(current, Ct);

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task AFlagdFile_ImportsAsOneRevision_WithSharedRulesInPlace_AndPrunesOnlyWhenAsked()
    {
        var service = Service();
        const string File = """
            {
              "$schema": "https://flagd.dev/schema/v0/flags.json",
              "metadata": {"flagSetId": "shop"},
              "$evaluators": {"is_staff": {"ends_with": [{"var": "email"}, "@shop.example"]}},
              "flags": {
                "banner": {"state": "ENABLED", "variants": {"on": "big", "off": "none"}, "defaultVariant": "off",
                           "targeting": {"if": [{"$ref": "is_staff"}, "on", null]}},
                "limit": {"state": "ENABLED", "variants": {"low": 10, "high": 100}, "defaultVariant": "low"}
              }
            }
            """;
        await _client.PutAsync(FlagPath(service, "dev", "old"), Json(Rollout), Ct);

        var dryRun = await (await _client.PostAsync($"/api/v1/flags/{service}/dev/import?dry_run=true", Json(File), Ct)).OkJsonAsync();
        var imported = await (await _client.PostAsync($"/api/v1/flags/{service}/dev/import", Json(File), Ct)).OkJsonAsync();
        var again = await (await _client.PostAsync($"/api/v1/flags/{service}/dev/import?prune=true", Json(File), Ct)).OkJsonAsync();
        var banner = await (await _client.GetAsync(FlagPath(service, "dev", "banner"), Ct)).OkJsonAsync();
        var limit = await (await _client.GetAsync(FlagPath(service, "dev", "limit"), Ct)).OkJsonAsync();
        var flags = await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).OkJsonAsync();

        Assert.Equal((true, 2), (dryRun.GetProperty("dry_run").GetBoolean(), dryRun.GetProperty("added").GetArrayLength()));
        Assert.Equal(["banner", "limit"], imported.GetProperty("added").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(0, imported.GetProperty("removed").GetArrayLength());
        var revision = imported.GetProperty("revision").GetInt64();
        foreach (var key in new[] { "banner", "limit" })
        {
            var history = await (await _client.GetAsync(FlagPath(service, "dev", key) + "/history", Ct)).OkJsonAsync();
            Assert.Equal(revision, Assert.Single(history.GetProperty("versions").EnumerateArray()).GetProperty("revision").GetInt64());
        }

        Assert.Equal((0, 2, "old"), (again.GetProperty("added").GetArrayLength(), again.GetProperty("unchanged").GetInt32(), again.GetProperty("removed")[0].GetString()));
        Assert.Equal("@shop.example", banner.GetProperty("definition").GetProperty("targeting").GetProperty("if")[0].GetProperty("ends_with")[1].GetString());
        Assert.Equal("shop", limit.GetProperty("definition").GetProperty("metadata").GetProperty("flagSetId").GetString());
        Assert.Equal(["banner", "limit"], flags.GetProperty("flags").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task AnInvalidFlagdFile_WritesNothing()
    {
        var service = Service();
        const string File = """
            {"flags": {"good": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a"},
                       "bad": {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "nowhere"}}}}
            """;

        using var response = await _client.PostAsync($"/api/v1/flags/{service}/dev/import", Json(File), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Equal("$.flags.bad.targeting.$ref", Assert.Single(problem.GetProperty("errors").EnumerateArray()).GetProperty("path").GetString());
        var flags = await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).OkJsonAsync();
        Assert.Empty(flags.GetProperty("flags").EnumerateObject());
    }

    [Fact]
    public async Task Import_OfAFlagNamingALargeSharedRuleManyTimes_IsRefusedAtOnce_WithoutPuttingItInPlaceEveryTime()
    {
        var service = Service();

        // 1.5 MB that, with every $ref put in place, would become a definition of 650 MB.
        var references = string.Join(", ", Enumerable.Repeat("""{"$ref": "big"}""", 500));
        var file = """{"$evaluators": {"big": {"in": [1, [""" + string.Join(",", Enumerable.Range(0, 200_000)) + """]]}},"""
            + """ "flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a", "targeting": {"or": [""" + references + "]}}}}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));

        using var response = await _client.PostAsync($"/api/v1/flags/{service}/dev/import?dry_run=true", Json(file), timeout.Token);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("$.flags.f.targeting", error.GetProperty("path").GetString());
        Assert.Contains("shared rules put in place", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_OfARuleHoldingALiteralLargerThanAnEvaluationMayRead_Is422NamingIt()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Flags:MaxIterations=1000");
        var path = FlagPath(Service(), "dev", "f");
        var definition = """{"state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "a", "targeting": {"if": [{"in": [{"var": "id"}, ["""
            + string.Join(",", Enumerable.Range(0, 1_001)) + """]]}, "b"]}}""";

        using var response = await server.Client.PutAsync(path, Json(definition), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Equal(["$.targeting.if[0].in[1]"], problem.ErrorPaths());
    }

    [Theory]
    [MemberData(nameof(BadCursors.Integers), MemberType = typeof(BadCursors))]
    [InlineData("0")]
    [InlineData("1&before_version=2")]
    public async Task History_WithABadBeforeVersion_Answers400NamingIt(string beforeVersion)
    {
        var path = FlagPath(Service(), "dev", "f");
        await _client.PutAsync(path, Json(Rollout), Ct);

        var problem = await (await _client.GetAsync(path + "/history?before_version=" + beforeVersion, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["before_version"], problem.ErrorPaths());
    }

    static string FlagPath(string service, string environment, string key) => $"/api/v1/flags/{service}/{environment}/{key}";
}
