// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Audit;

public sealed class AuditEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task EveryMutation_HasExactlyOneAuditRecord_WithItsRequestIdActorAndVersions()
    {
        await using var server = await KeelTestServer.StartAsync();
        var admin = server.Client;
        var service = Service();
        var path = ConfigPath(service, "prod", "db.url");
        using var writer = await server.CreateTokenClientAsync(["write", "read"], [$"{service}/*"], "deployer");
        var requestIds = new List<(string Action, string RequestId)>();
        async Task Mutate(string action, Task<HttpResponseMessage> call)
        {
            using var response = await call;
            Assert.True(response.IsSuccessStatusCode, $"{action}: {(int)response.StatusCode}");
            requestIds.Add((action, Assert.Single(response.Headers.GetValues("X-Request-Id"))));
        }

        await Mutate("config.create", writer.PutAsync(path, new { config_value = "a" }));
        await Mutate("config.update", writer.PutAsync(path, new { config_value = "b", encrypt = true }));
        await Mutate("config.rollback", writer.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }));
        await Mutate("config.delete", writer.DeleteAsync(path, Ct));
        await Mutate("key.rotate", admin.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rotate"));
        using var created = await admin.PostAsync("/api/v1/tokens", Json(new { name = "temp", permissions = new[] { "read" }, scopes = new[] { "*/*" } }), Ct);
        var tokenId = (await created.OkJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
        requestIds.Add(("token.create", created.Headers.GetValues("X-Request-Id").Single()));
        await Mutate("token.revoke", admin.DeleteAsync("/api/v1/tokens/" + tokenId, Ct));

        // Requests that change nothing leave no record.
        await writer.PutAsync(path, Json("{\"config_value\": 1, \"value_type\": \"nope\"}"), Ct);
        await writer.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 99 });
        await admin.DeleteAsync("/api/v1/tokens/" + tokenId, Ct);

        var records = (await (await admin.GetAsync("/api/v1/audit?limit=1000", Ct)).OkJsonAsync()).GetProperty("records").EnumerateArray().ToList();
        foreach (var (action, requestId) in requestIds)
        {
            var record = Assert.Single(records, r => r.GetProperty("request_id").GetString() == requestId);
            Assert.Equal(action, record.GetProperty("action").GetString());
            Assert.Equal("127.0.0.1", record.GetProperty("client_address").GetString());
        }

        var configRecords = records.Where(r => r.GetProperty("service_name").ValueKind == JsonValueKind.String && r.GetProperty("service_name").GetString() == service).ToList();
        Assert.Equal(4, configRecords.Count);
        Assert.All(configRecords, r => Assert.Equal("deployer", r.GetProperty("actor").GetProperty("name").GetString()));
        Assert.Equal([4L, 3, 2, 1], configRecords.Select(r => r.GetProperty("to_version").GetInt64()));
        Assert.DoesNotContain("\"b\"", string.Join(",", records.Select(r => r.GetRawText())), StringComparison.Ordinal);
        var tokenRecords = records.Where(r => r.GetProperty("target").GetString() == tokenId).Select(r => r.GetProperty("action").GetString());
        Assert.Equal(["token.revoke", "token.create"], tokenRecords);
    }

    [Fact]
    public async Task Query_FiltersAndPagesWithACursor_NewestFirst()
    {
        await using var server = await KeelTestServer.StartAsync();
        var service = Service();
        for (var i = 0; i < 7; i++)
        {
            await server.Client.PutAsync(ConfigPath(service, i < 5 ? "dev" : "prod", $"k{i}"), new { config_value = "v" });
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await server.Client.GetAsync($"/api/v1/audit?service_name={service}&environment=dev&action=config.create&limit=2" + (cursor is null ? "" : "&cursor=" + cursor), Ct)).OkJsonAsync();
            seen.AddRange(page.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("target").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(["k4", "k3", "k2", "k1", "k0"], seen);
        var byActor = await (await server.Client.GetAsync($"/api/v1/audit?actor=admin&service_name={service}", Ct)).OkJsonAsync();
        Assert.Equal(7, byActor.GetProperty("records").GetArrayLength());
        var future = DateTimeOffset.UtcNow.AddMinutes(5).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var none = await (await server.Client.GetAsync($"/api/v1/audit?service_name={service}&since={future}", Ct)).OkJsonAsync();
        Assert.Equal(0, none.GetProperty("records").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("next_cursor").ValueKind);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("cursor=bm90LWEtY3Vyc29y", "cursor")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=2026-01-01T00:00:00", "until")]
    [InlineData("service_name=Bad!", "service_name")]
    [InlineData("actor=a&actor=b", "actor")]
    public async Task Query_WithABadParameter_Answers400NamingIt(string query, string field)
    {
        await using var server = await KeelTestServer.StartAsync();

        var problem = await (await server.Client.GetAsync("/api/v1/audit?" + query, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal([field], problem.ErrorPaths());
    }

    [Theory]
    [MemberData(nameof(BadCursors.Opaque), MemberType = typeof(BadCursors))]
    [MemberData(nameof(ForgedCursors))]
    public async Task Query_WithABadCursor_Answers400NamingIt(string cursor)
    {
        var problem = await (await fixture.Client.GetAsync("/api/v1/audit?cursor=" + cursor, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["cursor"], problem.ErrorPaths());
    }

    [Fact]
    public async Task Query_WithAnotherEndpointsCursor_Answers400NamingIt()
    {
        var problem = await (await fixture.Client.GetAsync("/api/v1/audit?cursor=" + BadCursors.Encode("d1:1"), Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["cursor"], problem.ErrorPaths());
    }

    public static TheoryData<string> ForgedCursors => BadCursors.Forged("a1:");
}
