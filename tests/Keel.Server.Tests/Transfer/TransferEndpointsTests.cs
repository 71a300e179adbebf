// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Transfer;

public class TransferEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task BatchSet_WritesEveryKeyAtOneRevision()
    {
        var service = Service();
        await _client.PutValueAsync(service, "dev", "b", "old");

        using var response = await _client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "dev",
            change_description = "rollout",
            configs = new object[]
            {
                new { config_key = "a", config_value = 5, value_type = "number" },
                new { config_key = "b", config_value = "new", expected_version = 1 },
                new { config_key = "c", config_value = "secret", encrypt = true, expected_version = 0 },
            },
        }), Ct);

        var body = await response.OkJsonAsync();
        var revision = body.GetProperty("revision").GetInt64();
        Assert.Equal(
            [("a", "create", 1L), ("b", "update", 2L), ("c", "create", 1L)],
            body.GetProperty("configs").EnumerateArray().Select(c => (c.GetProperty("config_key").GetString(), c.GetProperty("change_type").GetString(), c.GetProperty("version").GetInt64())));
        foreach (var key in new[] { "a", "b", "c" })
        {
            var versions = await (await _client.GetAsync(ConfigPath(service, "dev", key) + "/history", Ct)).OkJsonAsync();
            Assert.Equal(revision, versions.GetProperty("versions")[0].GetProperty("revision").GetInt64());
        }

        var history = await (await _client.GetAsync(ConfigPath(service, "dev", "b") + "/history", Ct)).OkJsonAsync();
        Assert.Equal("rollout", history.GetProperty("versions")[0].GetProperty("change_description").GetString());
    }

    [Fact]
    public async Task BatchSet_WithStaleExpectedVersions_Is409NamingEachKey_AndWritesNothing()
    {
        var service = Service();
        await _client.PutValueAsync(service, "dev", "a", "1");
        await _client.PutValueAsync(service, "dev", "a", "2");
        await _client.PutValueAsync(service, "dev", "b", "1");

        using var response = await _client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "dev",
            configs = new object[]
            {
                new { config_key = "b", config_value = "x", expected_version = 1 },
                new { config_key = "a", config_value = "x", expected_version = 1 },
                new { config_key = "n", config_value = "x", expected_version = 0 },
                new { config_key = "b2", config_value = "x", expected_version = 3 },
            },
        }), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.Conflict, "version_conflict");
        Assert.Equal(["configs[1].expected_version", "configs[3].expected_version"], problem.ErrorPaths());
        Assert.Equal("1", (await (await _client.GetAsync(ConfigPath(service, "dev", "b"), Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(ConfigPath(service, "dev", "n"), Ct)).StatusCode);
    }

    [Fact]
    public async Task BatchSet_ListsEveryInvalidItem_AndWritesNothing()
    {
        var service = Service();

        using var response = await _client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "dev",
            configs = new object[]
            {
                new { config_key = "ok", config_value = "fine" },
                new { config_key = "n", config_value = "NaN", value_type = "number" },
                new { config_key = "t", config_value = "x", value_type = "nope" },
                new { config_key = "ok", config_value = "again" },
            },
        }), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Equal(["configs[1].config_value", "configs[2].value_type", "configs[3].config_key"], problem.ErrorPaths());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(ConfigPath(service, "dev", "ok"), Ct)).StatusCode);
    }

    [Fact]
    public async Task Import_DryRun_ReportsTheDiff_AndWritesNothing_ThenTheImportWritesItAsOneRevision()
    {
        var service = Service();
        await _client.PutValueAsync(service, "dev", "db.host", "old-host");
        await _client.PutValueAsync(service, "dev", "stale", "x");
        await _client.PutAsync(ConfigPath(service, "dev", "db.port"), new { config_value = "5432", value_type = "number" });
        const string file = """{"db": {"host": "new-host", "port": 5432}, "features": ["a", "b"]}""";

        var dryRun = await (await _client.PostAsync(ImportPath(service) + "?dry_run=true&prune=true", Json(file), Ct)).OkJsonAsync();
        var unchangedAfterDryRun = await (await _client.GetAsync(ConfigPath(service, "dev", "db.host"), Ct)).OkJsonAsync();
        var imported = await (await _client.PostAsync(ImportPath(service) + "?prune=true&change_description=from%20file", Json(file), Ct)).OkJsonAsync();

        Assert.True(dryRun.GetProperty("dry_run").GetBoolean());
        Assert.Equal(JsonValueKind.Null, dryRun.GetProperty("revision").ValueKind);
        Assert.Equal(["features"], Strings(dryRun, "added"));
        Assert.Equal(["db.host"], Strings(dryRun, "changed"));
        Assert.Equal(["stale"], Strings(dryRun, "removed"));
        Assert.Equal(1, dryRun.GetProperty("unchanged").GetInt32());
        Assert.Equal("old-host", unchangedAfterDryRun.GetProperty("config_value").GetString());

        Assert.False(imported.GetProperty("dry_run").GetBoolean());
        var revision = imported.GetProperty("revision").GetInt64();
        var features = await (await _client.GetAsync(ConfigPath(service, "dev", "features"), Ct)).OkJsonAsync();
        Assert.Equal(("json", """["a","b"]"""), (features.GetProperty("value_type").GetString(), features.GetProperty("config_value").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(ConfigPath(service, "dev", "stale"), Ct)).StatusCode);
        var history = await (await _client.GetAsync(ConfigPath(service, "dev", "db.host") + "/history", Ct)).OkJsonAsync();
        Assert.Equal(("from file", revision), (history.GetProperty("versions")[0].GetProperty("change_description").GetString(), history.GetProperty("versions")[0].GetProperty("revision").GetInt64()));
    }

    [Theory]
    [InlineData("json", "application/json")]
    [InlineData("yaml", "application/yaml")]
    [InlineData("env", "text/plain")]
    public async Task Export_ThenImport_IsANoOp_InEveryFormat(string format, string mediaType)
    {
        var service = Service() + "-" + format;
        await _client.PutAsync(ConfigPath(service, "dev", "port"), new { config_value = "8080", value_type = "number" });
        await _client.PutAsync(ConfigPath(service, "dev", "debug"), new { config_value = "true", value_type = "boolean" });
        await _client.PutAsync(ConfigPath(service, "dev", "limits"), new { config_value = """{"cpu": 2, "tags": ["x"]}""", value_type = "json" });
        await _client.PutAsync(ConfigPath(service, "dev", "manifest"), new { config_value = "a: 1\n", value_type = "yaml" });
        await _client.PutValueAsync(service, "dev", "quoted", "8080");
        await _client.PutValueAsync(service, "dev", "text", "multi\nline \"quoted\" 'single' # hash");

        using var export = await _client.GetAsync(ConfigPath(service, "dev", "export") + "?format=" + format, Ct);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal(mediaType, export.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0", export.Headers.GetValues("X-Keel-Omitted-Secrets").Single());
        var file = await export.Content.ReadAsByteArrayAsync(Ct);
        using var content = new ByteArrayContent(file);
        content.Headers.ContentType = new(mediaType);

        var result = await (await _client.PostAsync(ImportPath(service) + "?prune=true", content, Ct)).OkJsonAsync();

        Assert.Empty(Strings(result, "added"));
        Assert.Empty(Strings(result, "changed"));
        Assert.Empty(Strings(result, "removed"));
        Assert.Equal(6, result.GetProperty("unchanged").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("revision").ValueKind);
    }

    [Fact]
    public async Task Exports_OfALargeEnvironment_TakeASlotEach_AndOneTooManyIs503WhileSmallListingsGoOn()
    {
        await using var server = await KeelTestServer.StartAsync(
            null, "Keel:Limits:LargeSnapshotBytes=1048576", "Keel:Limits:MaxConcurrentLargeSnapshots=1", "Keel:Limits:LargeSnapshotWait=00:00:00");
        var service = Service();
        var megabyte = new string('x', 1024 * 1024 - 64);
        for (var i = 0; i < 12; i++)
        {
            (await server.Client.PutAsync(ConfigPath(service, "big", "k" + i), new { config_value = megabyte })).EnsureSuccessStatusCode();
        }

        await server.Client.PutValueAsync(service, "small", "k", "v");
        var export = $"/api/v1/config/{service}/big/export";

        // A client that stops reading keeps its export, and its slot, until it goes away.
        var stalled = await server.Client.GetAsync(export, HttpCompletionOption.ResponseHeadersRead, Ct);
        using var refused = await server.Client.GetAsync(export, Ct);
        using var listing = await server.Client.GetAsync($"/api/v1/config/{service}/small", Ct);
        Assert.Equal(HttpStatusCode.OK, stalled.StatusCode);
        await refused.ProblemAsync(HttpStatusCode.ServiceUnavailable, "server_busy");
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);

        stalled.Dispose();
        HttpStatusCode status;
        var attempts = 0;
        do
        {
            await Task.Delay(100, Ct);
            using var again = await server.Client.GetAsync(export, Ct);
            status = again.StatusCode;
        }
        while (status != HttpStatusCode.OK && ++attempts < 100);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Export_WithoutSecretsRead_LeavesEncryptedKeysOut_AndSaysHowMany()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "dev", "password"), new { config_value = "hunter2", encrypt = true });
        await _client.PutValueAsync(service, "dev", "plain", "p");
        using var reader = await fixture.Server.CreateTokenClientAsync(["read", "write"], [$"{service}/*"]);

        using var masked = await reader.GetAsync(ConfigPath(service, "dev", "export"), Ct);
        using var full = await _client.GetAsync(ConfigPath(service, "dev", "export"), Ct);
        var maskedText = await masked.Content.ReadAsStringAsync(Ct);

        Assert.Equal("1", masked.Headers.GetValues("X-Keel-Omitted-Secrets").Single());
        Assert.DoesNotContain("hunter2", maskedText, StringComparison.Ordinal);
        Assert.DoesNotContain("password", maskedText, StringComparison.Ordinal);
        Assert.Contains("hunter2", await full.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // Importing its own export with prune leaves the secret it could not see.
        var result = await (await reader.PostAsync(ImportPath(service) + "?prune=true", Json(maskedText), Ct)).OkJsonAsync();
        Assert.Empty(Strings(result, "removed"));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(ConfigPath(service, "dev", "password"), Ct)).StatusCode);
    }

    [Fact]
    public async Task Import_OfAnInvalidFile_Is422ListingEveryError_AndWritesNothing()
    {
        var service = Service();
        await _client.PutValueAsync(service, "dev", "kept", "k");
        var before = await _client.GetAsync(ConfigPath(service, "dev", "kept"), Ct);

        using var response = await _client.PostAsync(
            ImportPath(service) + "?format=env&prune=true", new StringContent("GOOD=1\nbad line\nALSO=2\nGOOD=3\n", Encoding.UTF8, "text/plain"), Ct);
        using var dryRun = await _client.PostAsync(
            ImportPath(service) + "?dry_run=true", Json("""{"a": null}"""), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_file");
        Assert.Equal(["line 2", "line 4"], problem.ErrorPaths());
        Assert.Equal(["$.a"], (await dryRun.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_file")).ErrorPaths());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(ConfigPath(service, "dev", "GOOD"), Ct)).StatusCode);
        Assert.Equal(1, (await (await _client.GetAsync(ConfigPath(service, "dev", "kept"), Ct)).OkJsonAsync()).GetProperty("version").GetInt64());
    }

    [Theory]
    [InlineData("json", """{"a": "\ud800"}""")]
    [InlineData("json", """{"\ud800": 1}""")]
    [InlineData("json", """{"a": {"b": ["x", "\udc00"]}}""")]
    [InlineData("json", """{"a": {"\ud800": 1}}""")]
    [InlineData("appsettings", """{"a": "\ud800"}""")]
    [InlineData("appsettings", """{"a": {"b": "\ud800x"}}""")]
    [InlineData("appsettings", """{"a": ["\ud800"]}""")]
    [InlineData("yaml", "a: \"\\ud800\"")]
    public async Task Import_OfAFileHoldingAnUnpairedSurrogate_Is422_AndWritesNothing(string format, string file)
    {
        var service = Service();

        using var dryRun = await _client.PostAsync($"/api/v1/config/{service}/dev/import?format={format}&dry_run=true", new StringContent(file, Encoding.UTF8, "application/json"), Ct);
        using var import = await _client.PostAsync($"/api/v1/config/{service}/dev/import?format={format}", new StringContent(file, Encoding.UTF8, "application/json"), Ct);

        await dryRun.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_file");
        await import.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_file");
        Assert.Empty((await (await _client.GetAsync($"/api/v1/config/{service}/dev", Ct)).OkJsonAsync()).GetProperty("configs").EnumerateArray());
    }

    [Fact]
    public async Task Import_WithoutAFormat_Is415_AndAnUnknownFormatIs400()
    {
        var service = Service();

        using var noFormat = await _client.PostAsync(ImportPath(service), new ByteArrayContent("A=1"u8.ToArray()), Ct);
        using var unknown = await _client.PostAsync(ImportPath(service) + "?format=toml", Json("{}"), Ct);

        await noFormat.ProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await unknown.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Import_ReachesWatchersAsOneRevision_WithTheIdOnlyOnItsLastEvent()
    {
        var service = Service();
        var start = (await _client.PutValueAsync(service, "dev", "z", "0")).GetProperty("revision").GetInt64();

        var result = await (await _client.PostAsync(ImportPath(service), Json("""{"a": "1", "b": "2", "c": "3"}"""), Ct)).OkJsonAsync();
        await using var events = await SseClient.ConnectAsync(_client, $"/api/v1/watch?service_name={service}&since_revision={start}");
        var received = await events.NextEventsAsync(3);

        var revision = result.GetProperty("revision").GetInt64();
        Assert.Equal([null, null, revision.ToString(System.Globalization.CultureInfo.InvariantCulture)], received.Select(e => e.Id));
    }

    [Fact]
    public async Task Key_NamedExport_IsRefused_AndImportHistoryAndRollbackKeysStillWork()
    {
        var service = Service();

        using var export = await _client.PutAsync(ConfigPath(service, "dev", "export"), new { config_value = "x" });
        var problem = await export.ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
        foreach (var key in new[] { "import", "history", "rollback" })
        {
            await _client.PutValueAsync(service, "dev", key, key + "-value");
            var read = await (await _client.GetAsync(ConfigPath(service, "dev", key), Ct)).OkJsonAsync();
            Assert.Equal(key + "-value", read.GetProperty("config_value").GetString());
        }

        Assert.Contains("reserved", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    static string ImportPath(string service) => $"/api/v1/config/{service}/dev/import";

    static List<string> Strings(JsonElement body, string name) => [.. body.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
