// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Config;

public class ConfigEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Put_CreatesAKey_With201_LocationETagAndTheWholeConfig()
    {
        var service = Service();
        var before = DateTime.UtcNow.AddSeconds(-1);

        var response = await _client.PutAsync(ConfigPath(service, "prod", "db.port"),
            new { config_value = "5432", value_type = "number", change_description = "first" });

        var body = await response.OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/v1/config/{service}/prod/db.port", response.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", response.ETag());
        Assert.Equal(service, body.GetProperty("service_name").GetString());
        Assert.Equal("prod", body.GetProperty("environment").GetString());
        Assert.Equal("db.port", body.GetProperty("config_key").GetString());
        Assert.Equal("5432", body.GetProperty("config_value").GetString());
        Assert.Equal("number", body.GetProperty("value_type").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt64());
        Assert.False(body.GetProperty("is_encrypted").GetBoolean());
        Assert.Equal("admin", body.GetProperty("updated_by").GetString());
        Assert.True(body.GetProperty("revision").GetInt64() > 0);
        var created = body.GetProperty("created_at").GetDateTime();
        Assert.Equal(DateTimeKind.Utc, created.Kind);
        Assert.InRange(created, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(created, body.GetProperty("updated_at").GetDateTime());
    }

    [Fact]
    public async Task Put_UpdatesAKey_With200_AndTheNextVersionAndRevision()
    {
        var path = ConfigPath(Service(), "prod", "timeout");
        var first = await (await _client.PutAsync(path, new { config_value = "30" })).OkJsonAsync(HttpStatusCode.Created);

        var response = await _client.PutAsync(path, new { config_value = "60" });

        var body = await response.OkJsonAsync();
        Assert.Null(response.Headers.Location);
        Assert.Equal("\"2\"", response.ETag());
        Assert.Equal(2, body.GetProperty("version").GetInt64());
        Assert.Equal("60", body.GetProperty("config_value").GetString());
        Assert.Equal("string", body.GetProperty("value_type").GetString());
        Assert.True(body.GetProperty("revision").GetInt64() > first.GetProperty("revision").GetInt64());
        Assert.Equal(first.GetProperty("created_at").GetDateTime(), body.GetProperty("created_at").GetDateTime());
    }

    [Fact]
    public async Task Get_ReturnsEveryField_AndAnETagOfTheVersion()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "staging", "feature.enabled"), new { config_value = "true", value_type = "boolean" });

        var response = await _client.GetAsync(ConfigPath(service, "staging", "feature.enabled"), Ct);

        var body = await response.OkJsonAsync();
        Assert.Equal("\"1\"", response.ETag());
        Assert.Equal(
            ["service_name", "environment", "config_key", "config_value", "value_type", "version", "is_encrypted", "created_at", "updated_at", "updated_by"],
            body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("true", body.GetProperty("config_value").GetString());
        Assert.Equal("boolean", body.GetProperty("value_type").GetString());
    }

    [Fact]
    public async Task Get_Answers304_WhenIfNoneMatchNamesTheCurrentVersion()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });
        await _client.PutAsync(path, new { config_value = "b" });

        var current = await _client.SendAsync(HttpMethod.Get, path, null, ("If-None-Match", "\"2\""));
        var weak = await _client.SendAsync(HttpMethod.Get, path, null, ("If-None-Match", "W/\"2\""));
        var list = await _client.SendAsync(HttpMethod.Get, path, null, ("If-None-Match", "\"1\", \"2\""));
        var any = await _client.SendAsync(HttpMethod.Get, path, null, ("If-None-Match", "*"));
        var stale = await _client.SendAsync(HttpMethod.Get, path, null, ("If-None-Match", "\"1\""));

        Assert.Equal(HttpStatusCode.NotModified, current.StatusCode);
        Assert.Equal("\"2\"", current.ETag());
        Assert.Empty(await current.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(HttpStatusCode.NotModified, weak.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, list.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, any.StatusCode);
        Assert.Equal("b", (await stale.OkJsonAsync()).GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Head_AnswersLikeGet_WithoutABody()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "k");
        await _client.PutAsync(path, new { config_value = "v" });

        var present = await _client.SendAsync(HttpMethod.Head, path);
        var absent = await _client.SendAsync(HttpMethod.Head, ConfigPath(service, "prod", "nope"));
        var notModified = await _client.SendAsync(HttpMethod.Head, path, null, ("If-None-Match", "\"1\""));
        var list = await _client.SendAsync(HttpMethod.Head, $"/api/v1/config/{service}/prod");

        Assert.Equal(HttpStatusCode.OK, present.StatusCode);
        Assert.Equal("\"1\"", present.ETag());
        Assert.Empty(await present.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.NotNull(list.ETag());
    }

    [Fact]
    public async Task Get_Answers404_ForAnAbsentOrDeletedKey()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "gone");
        await _client.PutAsync(path, new { config_value = "x" });
        await _client.DeleteAsync(path, Ct);

        var absent = await _client.GetAsync(ConfigPath(service, "prod", "never"), Ct);
        var deleted = await _client.GetAsync(path, Ct);

        await absent.ProblemAsync(HttpStatusCode.NotFound, "config_not_found");
        var problem = await deleted.ProblemAsync(HttpStatusCode.NotFound, "config_not_found");
        Assert.Equal(path, problem.GetProperty("instance").GetString());
    }

    [Theory]
    [InlineData("string", "\"plain text\"", "plain text")]
    [InlineData("number", "\"-1.5e3\"", "-1.5e3")]
    [InlineData("number", "42.50", "42.50")]
    [InlineData("boolean", "\"false\"", "false")]
    [InlineData("boolean", "true", "true")]
    [InlineData("json", "\"{\\\"a\\\": [1, 2]}\"", "{\"a\": [1, 2]}")]
    [InlineData("json", "{\"a\": [1, 2]}", "{\"a\": [1, 2]}")]
    [InlineData("json", "[true, null]", "[true, null]")]
    [InlineData("json", "7", "7")]
    [InlineData("yaml", "\"server:\\n  port: 8080\\n\"", "server:\n  port: 8080\n")]
    public async Task Put_StoresEachTypeAsText_AcceptingNativeJsonWhereTheTypeAllows(string type, string jsonValue, string stored)
    {
        var path = ConfigPath(Service(), "dev", "value");

        var put = await _client.PutAsync(path, Json($"{{\"config_value\": {jsonValue}, \"value_type\": \"{type}\"}}"), Ct);

        Assert.Equal(stored, (await put.OkJsonAsync(HttpStatusCode.Created)).GetProperty("config_value").GetString());
        var get = await (await _client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal(stored, get.GetProperty("config_value").GetString());
        Assert.Equal(type, get.GetProperty("value_type").GetString());
    }

    [Fact]
    public async Task Put_RoundTripsUnicodeAndSpecialCharacters_InKeysAndValues()
    {
        var service = Service();
        string[] keys = ["ключ", "rocket-🚀", "a\\b", "50%", "%FF", "a%2Fb", "q?x#y&z=1", "import", "history", "rollback", "...", ".env", "é"];

        foreach (var key in keys)
        {
            var value = $"värde för {key} — \"quoted\" 'single' <tag> & \u2028";
            await (await _client.PutAsync(ConfigPath(service, "dev", key), new { config_value = value })).OkJsonAsync(HttpStatusCode.Created);
            var body = await (await _client.GetAsync(ConfigPath(service, "dev", key), Ct)).OkJsonAsync();
            Assert.Equal(key, body.GetProperty("config_key").GetString());
            Assert.Equal(value, body.GetProperty("config_value").GetString());
        }
    }

    [Fact]
    public async Task AKeyNotInNfc_StoredBeforeKeelRefusedSuchKeys_IsReadAndDeleted_ButNotWritten()
    {
        var service = Service();
        const string Decomposed = "cafe\u0301";
        var store = fixture.Server.GetRequiredService<Keel.Core.Storage.IConfigStore>();
        await store.SetAsync(
            new Keel.Core.Storage.SetConfigRequest
            {
                Id = new Keel.Core.Configs.ConfigId(service, "prod", Decomposed),
                Value = "old",
                ValueType = Keel.Core.Configs.ConfigValueType.String,
                Actor = Keel.Storage.Specification.Tests.TestIdentities.Tester,
            },
            Ct);
        var path = ConfigPath(service, "prod", Decomposed);

        var read = await (await _client.GetAsync(path, Ct)).OkJsonAsync();
        var history = await (await _client.GetAsync(path + "/history", Ct)).OkJsonAsync();
        var batch = await (await _client.PostAsync(
            "/api/v1/config/batch", Json(new { service_name = service, environment = "prod", config_keys = new[] { Decomposed } }), Ct)).OkJsonAsync();
        var list = await (await _client.GetAsync($"/api/v1/config/{service}/prod", Ct)).OkJsonAsync();
        var update = await _client.PutAsync(path, new { config_value = "new" });
        var delete = await _client.DeleteAsync(path, Ct);

        Assert.Equal(Decomposed, read.GetProperty("config_key").GetString());
        Assert.Equal(1, history.GetProperty("versions").GetArrayLength());
        Assert.Equal(Decomposed, batch.GetProperty("configs")[0].GetProperty("config_key").GetString());
        Assert.Equal(Decomposed, list.GetProperty("configs")[0].GetProperty("config_key").GetString());
        await update.ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
        await delete.OkJsonAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task Put_AcceptsAValueOfExactlyTheLimit()
    {
        var path = ConfigPath(Service(), "dev", "big");
        var value = string.Concat(Enumerable.Repeat("é", 512 * 1024));

        var response = await _client.PutAsync(path, new { config_value = value });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await (await _client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal(value, body.GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Put_HonoursIfMatch()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });

        var stale = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "b" }, ("If-Match", "\"7\""));
        var any = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "c" }, ("If-Match", "*"));
        var current = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "d" }, ("If-Match", "\"2\""));

        var problem = await stale.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        Assert.Contains("version 1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await any.OkJsonAsync()).GetProperty("version").GetInt64());
        Assert.Equal(3, (await current.OkJsonAsync()).GetProperty("version").GetInt64());
        Assert.Equal("d", (await (await _client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Put_IfMatch_ComparesStrongly_AndTakesAList()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });

        var weak = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "b" }, ("If-Match", "W/\"1\""));
        var foreign = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "b" }, ("If-Match", "\"abc\""));
        var zero = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "b" }, ("If-Match", "\"0\""));
        var listMiss = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "b" }, ("If-Match", "\"2\", \"3\""));
        var listHit = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "c" }, ("If-Match", "\"5\", W/\"9\", \"1\""));

        await weak.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        await foreign.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        await zero.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        await listMiss.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        Assert.Equal(2, (await listHit.OkJsonAsync()).GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Put_WithIfMatch_Fails412_WhenTheKeyDoesNotExist()
    {
        var path = ConfigPath(Service(), "prod", "k");

        var response = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "a" }, ("If-Match", "*"));

        await response.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        await (await _client.GetAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "config_not_found");
    }

    [Fact]
    public async Task Put_HonoursIfNoneMatchStar_CreatingOnlyWhenAbsentOrDeleted()
    {
        var path = ConfigPath(Service(), "prod", "k");

        var created = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "a" }, ("If-None-Match", "*"));
        var exists = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "b" }, ("If-None-Match", "*"));
        await _client.DeleteAsync(path, Ct);
        var recreated = await _client.SendAsync(HttpMethod.Put, path, new { config_value = "c" }, ("If-None-Match", "*"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await exists.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var body = await recreated.OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(3, body.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Delete_Answers200_AndLeavesATombstone_ThenWritingContinuesTheVersions()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });

        var delete = await _client.DeleteAsync(path, Ct);
        var body = await delete.OkJsonAsync();
        var recreate = await (await _client.PutAsync(path, new { config_value = "b" })).OkJsonAsync(HttpStatusCode.Created);

        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        Assert.Equal(2, body.GetProperty("version").GetInt64());
        Assert.True(body.GetProperty("revision").GetInt64() > 0);
        Assert.Equal(3, recreate.GetProperty("version").GetInt64());
        var history = await (await _client.GetAsync(path + "/history", Ct)).OkJsonAsync();
        Assert.Equal(["create", "delete", "create"], history.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("change_type").GetString()).Reverse());
    }

    [Fact]
    public async Task Delete_Answers404_ForAnAbsentOrAlreadyDeletedKey()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await (await _client.DeleteAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "config_not_found");

        await _client.PutAsync(path, new { config_value = "a" });
        await _client.DeleteAsync(path, Ct);

        await (await _client.DeleteAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "config_not_found");
        await (await _client.SendAsync(HttpMethod.Delete, path, null, ("If-Match", "\"1\""))).ProblemAsync(HttpStatusCode.NotFound, "config_not_found");
    }

    [Fact]
    public async Task Delete_HonoursIfMatch()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });
        await _client.PutAsync(path, new { config_value = "b" });

        await (await _client.SendAsync(HttpMethod.Delete, path, null, ("If-Match", "\"1\""))).ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(path, Ct)).StatusCode);

        var deleted = await _client.SendAsync(HttpMethod.Delete, path, null, ("If-Match", "\"2\""));
        Assert.Equal(3, (await deleted.OkJsonAsync()).GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task History_ListsVersionsNewestFirst_WithEveryField()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "1", value_type = "number", change_description = "initial" });
        await _client.PutAsync(path, new { config_value = "{\"a\":1}", value_type = "json" });
        await _client.DeleteAsync(path, Ct);

        var body = await (await _client.GetAsync(path + "/history", Ct)).OkJsonAsync();

        Assert.Equal("k", body.GetProperty("config_key").GetString());
        var versions = body.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([3L, 2L, 1L], versions.Select(v => v.GetProperty("version").GetInt64()));
        var first = versions[2];
        foreach (var field in new[] { "version", "config_value", "value_type", "change_description", "change_type", "created_at", "created_by" })
        {
            Assert.True(first.TryGetProperty(field, out _), field);
        }

        Assert.Equal("1", first.GetProperty("config_value").GetString());
        Assert.Equal("number", first.GetProperty("value_type").GetString());
        Assert.Equal("initial", first.GetProperty("change_description").GetString());
        Assert.Equal("create", first.GetProperty("change_type").GetString());
        Assert.Equal("admin", first.GetProperty("created_by").GetString());
        Assert.Equal("update", versions[1].GetProperty("change_type").GetString());
        Assert.Equal(JsonValueKind.Null, versions[1].GetProperty("change_description").ValueKind);
        var tombstone = versions[0];
        Assert.Equal("delete", tombstone.GetProperty("change_type").GetString());
        Assert.Equal(JsonValueKind.Null, tombstone.GetProperty("config_value").ValueKind);
        Assert.Equal(JsonValueKind.Null, tombstone.GetProperty("value_type").ValueKind);
    }

    [Fact]
    public async Task History_PagesWithLimitAndBeforeVersion()
    {
        var path = ConfigPath(Service(), "prod", "k");
        for (var i = 1; i <= 12; i++)
        {
            await _client.PutAsync(path, new { config_value = i.ToString(CultureInfo.InvariantCulture) });
        }

        async Task<long[]> VersionsAsync(string query) =>
            (await (await _client.GetAsync(path + "/history" + query, Ct)).OkJsonAsync())
                .GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt64()).ToArray();

        Assert.Equal(new long[] { 12, 11, 10, 9, 8, 7, 6, 5, 4, 3 }, await VersionsAsync(""));
        Assert.Equal(new long[] { 12, 11, 10 }, await VersionsAsync("?limit=3"));
        Assert.Equal(new long[] { 9, 8, 7 }, await VersionsAsync("?limit=3&before_version=10"));
        Assert.Equal(new long[] { 2, 1 }, await VersionsAsync("?limit=1000&before_version=3"));
        Assert.Empty(await VersionsAsync("?before_version=1"));
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1001", "limit")]
    [InlineData("?limit=-1", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?limit=1&limit=2", "limit")]
    [InlineData("?before_version=0", "before_version")]
    [InlineData("?before_version=x", "before_version")]
    [InlineData("?before_version=", "before_version")]
    public async Task History_Answers400_ForBadPaging(string query, string field)
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });

        var problem = await (await _client.GetAsync(path + "/history" + query, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal([field], problem.ErrorPaths());
    }

    [Theory]
    [MemberData(nameof(BadCursors.Integers), MemberType = typeof(BadCursors))]
    [InlineData("0")]
    [InlineData("1&before_version=2")]
    public async Task History_WithABadBeforeVersion_Answers400NamingIt(string beforeVersion)
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });

        var problem = await (await _client.GetAsync(path + "/history?before_version=" + beforeVersion, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["before_version"], problem.ErrorPaths());
    }

    [Fact]
    public async Task History_Answers404_ForAKeyThatNeverExisted()
    {
        await (await _client.GetAsync(ConfigPath(Service(), "prod", "never") + "/history", Ct)).ProblemAsync(HttpStatusCode.NotFound, "config_not_found");
    }

    [Fact]
    public async Task Rollback_WritesTheTargetAsANewVersion()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "42", value_type = "number" });
        await _client.PutAsync(path, new { config_value = "oops" });

        var response = await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 });

        var body = await response.OkJsonAsync();
        Assert.Equal("\"3\"", response.ETag());
        Assert.Equal("k", body.GetProperty("config_key").GetString());
        Assert.Equal(3, body.GetProperty("version").GetInt64());
        Assert.Equal(2, body.GetProperty("previous_version").GetInt64());
        Assert.Equal(1, body.GetProperty("rolled_back_to").GetInt64());
        Assert.Equal(DateTimeKind.Utc, body.GetProperty("updated_at").GetDateTime().Kind);
        var current = await (await _client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal("42", current.GetProperty("config_value").GetString());
        Assert.Equal("number", current.GetProperty("value_type").GetString());
        var newest = (await (await _client.GetAsync(path + "/history?limit=1", Ct)).OkJsonAsync()).GetProperty("versions")[0];
        Assert.Equal("rollback", newest.GetProperty("change_type").GetString());
        Assert.Equal("Rollback to version 1", newest.GetProperty("change_description").GetString());
    }

    [Fact]
    public async Task Rollback_Answers404_409_And412_AndChangesNothing()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });
        await _client.DeleteAsync(path, Ct);
        await _client.PutAsync(path, new { config_value = "b" });

        await (await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 9 })).ProblemAsync(HttpStatusCode.NotFound, "version_not_found");
        await (await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 2 })).ProblemAsync(HttpStatusCode.Conflict, "rollback_to_tombstone");
        await (await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-Match", "\"2\""))).ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        await (await _client.SendAsync(HttpMethod.Post, ConfigPath(Service(), "prod", "never") + "/rollback", new { target_version = 1 })).ProblemAsync(HttpStatusCode.NotFound, "config_not_found");

        var current = await (await _client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal(3, current.GetProperty("version").GetInt64());
        Assert.Equal("b", current.GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Rollback_RevivesADeletedKey()
    {
        var path = ConfigPath(Service(), "prod", "k");
        await _client.PutAsync(path, new { config_value = "a" });
        await _client.DeleteAsync(path, Ct);

        var body = await (await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1, change_description = "undo delete" })).OkJsonAsync();

        Assert.Equal(3, body.GetProperty("version").GetInt64());
        Assert.Equal("a", (await (await _client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        var newest = (await (await _client.GetAsync(path + "/history?limit=1", Ct)).OkJsonAsync()).GetProperty("versions")[0];
        Assert.Equal("undo delete", newest.GetProperty("change_description").GetString());
    }

    [Fact]
    public async Task List_ReturnsEveryLiveKeyInKeyOrder_WithTheStoreRevision()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "prod", "b"), new { config_value = "2", value_type = "number" });
        await _client.PutAsync(ConfigPath(service, "prod", "a"), new { config_value = "1" });
        await _client.PutAsync(ConfigPath(service, "prod", "gone"), new { config_value = "x" });
        await _client.DeleteAsync(ConfigPath(service, "prod", "gone"), Ct);
        var last = await (await _client.PutAsync(ConfigPath(service, "dev", "other"), new { config_value = "x" })).OkJsonAsync(HttpStatusCode.Created);

        var response = await _client.GetAsync($"/api/v1/config/{service}/prod", Ct);

        var body = await response.OkJsonAsync();
        Assert.Equal(service, body.GetProperty("service_name").GetString());
        Assert.Equal("prod", body.GetProperty("environment").GetString());
        Assert.True(body.GetProperty("revision").GetInt64() >= last.GetProperty("revision").GetInt64());
        var configs = body.GetProperty("configs").EnumerateArray().ToList();
        Assert.Equal(["a", "b"], configs.Select(c => c.GetProperty("config_key").GetString()));
        Assert.Equal("2", configs[1].GetProperty("config_value").GetString());
        Assert.Equal("number", configs[1].GetProperty("value_type").GetString());
        Assert.Equal(1, configs[1].GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task List_AnswersIfNoneMatch_With304_UntilTheScopeChanges()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "prod", "a"), new { config_value = "1" });
        var first = await _client.GetAsync($"/api/v1/config/{service}/prod", Ct);
        var tag = first.ETag()!;

        await _client.PutAsync(ConfigPath(service, "dev", "a"), new { config_value = "elsewhere" });
        var unchanged = await _client.SendAsync(HttpMethod.Get, $"/api/v1/config/{service}/prod", null, ("If-None-Match", tag));
        await _client.DeleteAsync(ConfigPath(service, "prod", "a"), Ct);
        var changed = await _client.SendAsync(HttpMethod.Get, $"/api/v1/config/{service}/prod", null, ("If-None-Match", tag));

        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal(tag, unchanged.ETag());
        var body = await changed.OkJsonAsync();
        Assert.Empty(body.GetProperty("configs").EnumerateArray());
        Assert.NotEqual(tag, changed.ETag());
    }

    [Fact]
    public async Task List_IsEmpty_ForAnUnknownScope()
    {
        var body = await (await _client.GetAsync($"/api/v1/config/{Service()}/prod", Ct)).OkJsonAsync();

        Assert.Empty(body.GetProperty("configs").EnumerateArray());
    }

    [Fact]
    public async Task Batch_ReturnsFoundKeysInRequestOrder_AndTheMissingOnes()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "prod", "a"), new { config_value = "1", value_type = "number" });
        await _client.PutAsync(ConfigPath(service, "prod", "b"), new { config_value = "two" });
        await _client.PutAsync(ConfigPath(service, "prod", "gone"), new { config_value = "x" });
        await _client.DeleteAsync(ConfigPath(service, "prod", "gone"), Ct);

        var body = await (await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch",
            new { service_name = service, environment = "prod", config_keys = new[] { "b", "missing", "a", "gone", "b" } })).OkJsonAsync();

        var configs = body.GetProperty("configs").EnumerateArray().ToList();
        Assert.Equal(["b", "a"], configs.Select(c => c.GetProperty("config_key").GetString()));
        Assert.Equal("two", configs[0].GetProperty("config_value").GetString());
        Assert.Equal("string", configs[0].GetProperty("value_type").GetString());
        Assert.Equal(1, configs[0].GetProperty("version").GetInt64());
        Assert.Equal("number", configs[1].GetProperty("value_type").GetString());
        Assert.Equal(["missing", "gone"], body.GetProperty("missing").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task Batch_ReadsAThousandKeys_AndRefusesMore()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "prod", "key-0500"), new { config_value = "x" });
        var thousand = Enumerable.Range(0, 1000).Select(i => $"key-{i:D4}").ToArray();

        var ok = await (await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch",
            new { service_name = service, environment = "prod", config_keys = thousand })).OkJsonAsync();
        var tooMany = await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch",
            new { service_name = service, environment = "prod", config_keys = thousand.Append("one-more").ToArray() });

        Assert.Single(ok.GetProperty("configs").EnumerateArray());
        Assert.Equal(999, ok.GetProperty("missing").GetArrayLength());
        var problem = await tooMany.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(["config_keys"], problem.ErrorPaths());
    }

    [Fact]
    public async Task Batch_Answers400_ListingEveryInvalidName()
    {
        var problem = await (await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch",
            new { service_name = "Bad Service", environment = "prod", config_keys = new[] { "ok", "has space", "a/b", "" } }))
            .ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");

        Assert.Equal(["service_name", "config_keys[1]", "config_keys[2]", "config_keys[3]"], problem.ErrorPaths());
    }

    [Fact]
    public async Task Batch_Answers400_ForMissingFields()
    {
        var problem = await (await _client.SendAsync(HttpMethod.Post, "/api/v1/config/batch", new { environment = "prod" }))
            .ProblemAsync(HttpStatusCode.BadRequest, "malformed_request");

        Assert.Equal(["service_name", "config_keys"], problem.ErrorPaths());
    }

    [Fact]
    public async Task ConcurrentPutsOfOneKey_OverHttp_YieldContiguousVersions()
    {
        var path = ConfigPath(Service(), "prod", "hot");
        const int writers = 40;

        var responses = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
            _client.PutAsync(path, new { config_value = i.ToString(CultureInfo.InvariantCulture) })));

        var versions = new List<long>();
        foreach (var response in responses)
        {
            Assert.True(response.IsSuccessStatusCode);
            versions.Add((await response.ReadJsonAsync()).GetProperty("version").GetInt64());
        }

        Assert.Equal(Enumerable.Range(1, writers).Select(v => (long)v), versions.Order());
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
    }
}
