// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Webhooks;

/// <summary>A server that lets webhooks target loopback, so that a test receiver can be subscribed.</summary>
public sealed class WebhookEndpointsFixture : ServerFixture
{
    protected override string[] Settings =>
    [
        "Keel:Webhooks:AllowPrivateNetworks=true",
        "Keel:Webhooks:InitialBackoff=00:00:00.200",
        "Keel:Webhooks:PollInterval=00:00:00.200",
    ];
}

public sealed class WebhookEndpointsTests(WebhookEndpointsFixture fixture) : IClassFixture<WebhookEndpointsFixture>
{
    /// <summary>A loopback port nothing listens on: subscriptions that never see a change need no receiver.</summary>
    const string Nowhere = "http://127.0.0.1:9/hooks/keel";

    static readonly string[] PublicFields =
    [
        "subscription_id", "service_name", "environment", "subscribed_keys", "webhook_url", "status", "created_at", "created_by",
        "last_notified_at",
    ];

    HttpClient Admin => fixture.Client;

    [Fact]
    public async Task Subscribe_Answers201WithTheSecretOnce_AndGetAndListOmitIt()
    {
        var service = Service();

        using var response = await Admin.PostAsync(
            WebhookApi.SubscribePath, Json(WebhookApi.Body(service, Nowhere, "db.*", "feature.flag")), Ct);
        var created = await response.OkJsonAsync(HttpStatusCode.Created);

        var id = created.GetProperty("subscription_id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("sub_", id, StringComparison.Ordinal);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 32, secret);
        Assert.Equal($"/api/v1/config/subscriptions/{id}", response.Headers.Location?.ToString());
        Assert.Equal(PublicFields.Append("secret").Order(StringComparer.Ordinal), created.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(service, created.GetProperty("service_name").GetString());
        Assert.Equal(WebhookApi.Env, created.GetProperty("environment").GetString());
        Assert.Equal(["db.*", "feature.flag"], created.GetProperty("subscribed_keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(Nowhere, created.GetProperty("webhook_url").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.Equal("admin", created.GetProperty("created_by").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("last_notified_at").ValueKind);
        Assert.InRange(created.GetProperty("created_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));

        using var get = await Admin.GetAsync(response.Headers.Location, Ct);
        var read = await get.OkJsonAsync();
        Assert.Equal(PublicFields.Order(StringComparer.Ordinal), read.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(id, read.GetProperty("subscription_id").GetString());
        Assert.Equal(created.GetProperty("created_at").GetString(), read.GetProperty("created_at").GetString());
        Assert.DoesNotContain(secret, read.GetRawText(), StringComparison.Ordinal);

        foreach (var path in new[] { WebhookApi.ListPath, $"{WebhookApi.ListPath}?service_name={service}" })
        {
            var list = await (await Admin.GetAsync(path, Ct)).OkJsonAsync();
            var listed = list.GetProperty("subscriptions").EnumerateArray().Single(s => s.GetProperty("subscription_id").GetString() == id);
            Assert.False(listed.TryGetProperty("secret", out _));
            Assert.Equal("active", listed.GetProperty("status").GetString());
            Assert.DoesNotContain(secret, list.GetRawText(), StringComparison.Ordinal);
        }

        var filtered = await (await Admin.GetAsync($"{WebhookApi.ListPath}?service_name={service}", Ct)).OkJsonAsync();
        Assert.Equal([id], filtered.GetProperty("subscriptions").EnumerateArray().Select(s => s.GetProperty("subscription_id").GetString()));
    }

    [Fact]
    public async Task Subscribe_KeepsTheUrlAsGiven_UpToItsLongestLength_AndDropsRepeatedKeys()
    {
        var service = Service();
        var url = "http://127.0.0.1:9/hooks?x=" + new string('a', 2048 - "http://127.0.0.1:9/hooks?x=".Length);
        Assert.Equal(2048, url.Length);

        var created = await Admin.SubscribeAsync(service, url, "k", "k", "*");

        Assert.Equal(url, created.GetProperty("webhook_url").GetString());
        Assert.Equal(["k", "*"], created.GetProperty("subscribed_keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
    }

    [Fact]
    public async Task Delete_RemovesTheSubscription_AndASecondDeleteIs404()
    {
        var service = Service();
        var created = await Admin.SubscribeAsync(service, Nowhere, "*");
        var path = WebhookApi.SubscriptionPath(created);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(path, Ct)).StatusCode);

        await (await Admin.GetAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await Admin.GetAsync(path + "/deliveries", Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await Admin.DeleteAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        var list = await (await Admin.GetAsync($"{WebhookApi.ListPath}?service_name={service}", Ct)).OkJsonAsync();
        Assert.Equal(0, list.GetProperty("subscriptions").GetArrayLength());

        // A change after the delete finds no subscription to write a delivery for.
        Assert.Equal(HttpStatusCode.Created, (await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" })).StatusCode);
    }

    public static TheoryData<string, string> InvalidSubscriptions()
    {
        const string Svc = "webhook-validation";
        return new()
        {
            { Serialize(new { environment = "dev", config_keys = new[] { "*" }, webhook_url = Nowhere }), "service_name" },
            { Serialize(WebhookApi.Body("Not A Name", Nowhere, "*")), "service_name" },
            { Serialize(WebhookApi.Body("subscriptions", Nowhere, "*")), "service_name" },
            { Serialize(new { service_name = Svc, config_keys = new[] { "*" }, webhook_url = Nowhere }), "environment" },
            { Serialize(new { service_name = Svc, environment = "Dev/Prod", config_keys = new[] { "*" }, webhook_url = Nowhere }), "environment" },
            { Serialize(new { service_name = Svc, environment = "dev", webhook_url = Nowhere }), "config_keys" },
            { Serialize(WebhookApi.Body(Svc, Nowhere)), "config_keys" },
            { Serialize(WebhookApi.Body(Svc, Nowhere, "a b")), "config_keys" },
            { Serialize(WebhookApi.Body(Svc, Nowhere, "db/pool*")), "config_keys" },
            { Serialize(WebhookApi.Body(Svc, Nowhere, "ok", "")), "config_keys" },
            { Serialize(WebhookApi.Body(Svc, Nowhere, [.. Enumerable.Range(0, 101).Select(i => $"k{i}")])), "config_keys" },
            { Serialize(new { service_name = Svc, environment = "dev", config_keys = new[] { "*" } }), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "ftp://127.0.0.1/hooks/keel", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "file:///etc/passwd", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "/hooks/keel", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "hooks/keel", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "not a url", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "http://user:pass@127.0.0.1:9/hooks/keel", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "http://token@127.0.0.1:9/hooks/keel", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "http://127.0.0.1:9/hooks/keel#fragment", "*")), "webhook_url" },
            { Serialize(WebhookApi.Body(Svc, "http://127.0.0.1:9/hooks?x=" + new string('a', 2048), "*")), "webhook_url" },
        };

        static string Serialize(object body) => JsonSerializer.Serialize(body);
    }

    [Theory]
    [MemberData(nameof(InvalidSubscriptions))]
    public async Task Subscribe_WithAnInvalidField_Answers400NamingIt_AndCreatesNothing(string body, string field)
    {
        var before = await CountAsync();

        var problem = await (await Admin.PostAsync(WebhookApi.SubscribePath, Json(body), Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Contains(field, problem.ErrorPaths());
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Subscribe_WithAReadToken_Answers403_AndCreatesNothing()
    {
        var service = Service();
        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/*"], "webhook-reader");
        var before = await CountAsync();

        await (await reader.PostAsync(WebhookApi.SubscribePath, Json(WebhookApi.Body(service, Nowhere, "*")), Ct))
            .ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Subscribe_OutsideTheTokensScopes_Answers403_AndWithinThemSucceeds()
    {
        var service = Service();
        using var writer = await fixture.Server.CreateTokenClientAsync(["read", "write"], [$"{service}/prod"], "webhook-writer");
        var before = await CountAsync();

        await (await writer.PostAsync(WebhookApi.SubscribePath, Json(WebhookApi.Body(service + "-other", Nowhere, "*")), Ct))
            .ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await writer.PostAsync(WebhookApi.SubscribePath, Json(WebhookApi.Body(service, Nowhere, "*")), Ct))
            .ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(before, await CountAsync());

        using var response = await writer.PostAsync(
            WebhookApi.SubscribePath, Json(new { service_name = service, environment = "prod", config_keys = new[] { "*" }, webhook_url = Nowhere }), Ct);
        var created = await response.OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("webhook-writer", created.GetProperty("created_by").GetString());
        Assert.Equal(HttpStatusCode.OK, (await writer.GetAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await writer.DeleteAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
    }

    [Fact]
    public async Task SubscriptionOutsideTheTokensScopes_IsNotFound_ForEveryCall()
    {
        var service = Service();
        var created = await Admin.SubscribeAsync(service, Nowhere, "*");
        var path = WebhookApi.SubscriptionPath(created);
        using var other = await fixture.Server.CreateTokenClientAsync(["read", "write"], [$"{service}-other/*", $"*/prod"], "webhook-other");

        await (await other.GetAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await other.GetAsync(path + "/deliveries", Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await other.DeleteAsync(path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await other.PostAsync(path + "/deliveries/00000000-0000-0000-0000-000000000000/redeliver", null, Ct))
            .ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");

        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync(path, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task ReadToken_CanReadButNeitherDeleteNorRedeliver()
    {
        var service = Service();
        var created = await Admin.SubscribeAsync(service, Nowhere, "*");
        var path = WebhookApi.SubscriptionPath(created);
        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/*"], "webhook-reader");

        var read = await (await reader.GetAsync(path, Ct)).OkJsonAsync();
        Assert.False(read.TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(path + "/deliveries", Ct)).StatusCode);
        await (await reader.DeleteAsync(path, Ct)).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await reader.PostAsync(path + "/deliveries/00000000-0000-0000-0000-000000000000/redeliver", null, Ct))
            .ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync(path, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task List_ShowsOnlySubscriptionsWithinTheTokensScopes()
    {
        var service = Service();
        var mine = await Admin.SubscribeAsync(service, Nowhere, "*");
        var theirs = await Admin.SubscribeAsync(service + "-other", Nowhere, "*");
        var otherEnvironment = await Admin.PostAsync(
            WebhookApi.SubscribePath, Json(new { service_name = service, environment = "prod", config_keys = new[] { "*" }, webhook_url = Nowhere }), Ct);
        var prod = await otherEnvironment.OkJsonAsync(HttpStatusCode.Created);
        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/dev"], "webhook-reader");

        var all = await IdsAsync(reader, WebhookApi.ListPath);
        var own = await IdsAsync(reader, $"{WebhookApi.ListPath}?service_name={service}");
        var other = await IdsAsync(reader, $"{WebhookApi.ListPath}?service_name={service}-other");

        Assert.Equal([Id(mine)], all);
        Assert.Equal([Id(mine)], own);
        Assert.Empty(other);
        var admin = await IdsAsync(Admin, WebhookApi.ListPath);
        Assert.Contains(Id(theirs), admin);
        Assert.Contains(Id(prod), admin);
        await (await reader.GetAsync($"{WebhookApi.ListPath}?service_name=Not%20A%20Name", Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        foreach (var created in new[] { mine, theirs, prod })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
        }

        static string Id(JsonElement subscription) => subscription.GetProperty("subscription_id").GetString()!;

        static async Task<List<string>> IdsAsync(HttpClient client, string path) =>
            [.. (await (await client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("subscriptions").EnumerateArray().Select(Id)];
    }

    [Fact]
    public async Task UnknownSubscription_Answers404()
    {
        const string Path = "/api/v1/config/subscriptions/sub_00000000000000000000000000000000";

        await (await Admin.GetAsync(Path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await Admin.DeleteAsync(Path, Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await Admin.GetAsync(Path + "/deliveries", Ct)).ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await Admin.PostAsync(Path + "/deliveries/00000000-0000-0000-0000-000000000000/redeliver", null, Ct))
            .ProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
    }

    [Fact]
    public async Task Deliveries_ListPendingNewestFirst_FilterByStatus_PageWithACursor_AndAPendingOneIsNotRedelivered()
    {
        var service = Service();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => release.Task;
        try
        {
            var created = await Admin.SubscribeAsync(service, receiver.Url.ToString(), "*");
            var id = created.GetProperty("subscription_id").GetString()!;
            var path = WebhookApi.SubscriptionPath(created);
            List<long> revisions = [];
            foreach (var key in new[] { "a", "b", "c" })
            {
                var put = await (await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, key), new { config_value = "x" })).OkJsonAsync(HttpStatusCode.Created);
                revisions.Add(put.GetProperty("revision").GetInt64());
            }

            var all = await Admin.DeliveriesAsync(id);
            Assert.Equal(revisions.AsEnumerable().Reverse(), all.Select(d => d.GetProperty("revision").GetInt64()));
            Assert.Equal(["c", "b", "a"], all.Select(d => d.GetProperty("config_key").GetString()));
            Assert.All(all, d =>
            {
                Assert.Equal("pending", d.GetProperty("status").GetString());
                Assert.Equal(id, d.GetProperty("subscription_id").GetString());
                Assert.Equal(service, d.GetProperty("service_name").GetString());
                Assert.Equal("create", d.GetProperty("change_type").GetString());
                Assert.Equal(1, d.GetProperty("version").GetInt64());
                Assert.Equal(0, d.GetProperty("attempts").GetInt32());
                Assert.Equal(JsonValueKind.Null, d.GetProperty("delivered_at").ValueKind);
            });
            Assert.Equal(3, all.Select(d => d.GetProperty("delivery_id").GetString()).Distinct().Count());
            Assert.Equal(3, (await Admin.DeliveriesAsync(id, "pending")).Count);
            Assert.Empty(await Admin.DeliveriesAsync(id, "delivered"));
            Assert.Empty(await Admin.DeliveriesAsync(id, "dead"));

            var first = await (await Admin.GetAsync(path + "/deliveries?limit=2", Ct)).OkJsonAsync();
            Assert.Equal(2, first.GetProperty("deliveries").GetArrayLength());
            var cursor = first.GetProperty("next_cursor").GetString();
            Assert.False(string.IsNullOrEmpty(cursor));
            var second = await (await Admin.GetAsync($"{path}/deliveries?limit=2&cursor={Uri.EscapeDataString(cursor!)}", Ct)).OkJsonAsync();
            Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
            Assert.Equal(
                all.Select(d => d.GetProperty("delivery_id").GetString()),
                first.GetProperty("deliveries").EnumerateArray().Concat(second.GetProperty("deliveries").EnumerateArray()).Select(d => d.GetProperty("delivery_id").GetString()));

            var pending = all[^1].GetProperty("delivery_id").GetString();
            await (await Admin.PostAsync($"{path}/deliveries/{pending}/redeliver", null, Ct)).ProblemAsync(HttpStatusCode.Conflict, "delivery_pending");
            await (await Admin.PostAsync($"{path}/deliveries/00000000-0000-0000-0000-000000000000/redeliver", null, Ct))
                .ProblemAsync(HttpStatusCode.NotFound, "delivery_not_found");

            // Another subscription's delivery is not this one's.
            var other = await Admin.SubscribeAsync(service + "-other", Nowhere, "*");
            await (await Admin.PostAsync($"{WebhookApi.SubscriptionPath(other)}/deliveries/{pending}/redeliver", null, Ct))
                .ProblemAsync(HttpStatusCode.NotFound, "delivery_not_found");
            Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(WebhookApi.SubscriptionPath(other), Ct)).StatusCode);

            Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(path, Ct)).StatusCode);
        }
        finally
        {
            release.TrySetResult(200);
        }
    }

    [Theory]
    [InlineData("status=gone", "status")]
    [InlineData("status=Pending", "status")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    public async Task Deliveries_WithAnInvalidQuery_Answers400NamingIt(string query, string field)
    {
        var created = await Admin.SubscribeAsync(Service(), Nowhere, "*");

        var problem = await (await Admin.GetAsync($"{WebhookApi.SubscriptionPath(created)}/deliveries?{query}", Ct))
            .ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Contains(field, problem.ErrorPaths());
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadCursors.Opaque), MemberType = typeof(BadCursors))]
    [MemberData(nameof(ForgedCursors))]
    public async Task Deliveries_WithABadCursor_Answers400NamingIt(string cursor)
    {
        var created = await Admin.SubscribeAsync(Service(), Nowhere, "*");

        var problem = await (await Admin.GetAsync($"{WebhookApi.SubscriptionPath(created)}/deliveries?cursor={cursor}", Ct))
            .ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["cursor"], problem.ErrorPaths());
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
    }

    public static TheoryData<string> ForgedCursors => [.. BadCursors.Forged("d1:"), BadCursors.Encode("a1:1")];

    [Fact]
    public async Task ServiceNameSubscriptions_IsReservedForConfig()
    {
        var problem = await (await Admin.PutAsync(ConfigPath("subscriptions", "dev", "k"), new { config_value = "x" }))
            .ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");

        Assert.Contains("service_name", problem.ErrorPaths());
        await (await Admin.GetAsync(ConfigPath("subscriptions", "dev", "k"), Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
    }

    async Task<int> CountAsync() =>
        (await (await Admin.GetAsync(WebhookApi.ListPath, Ct)).OkJsonAsync()).GetProperty("subscriptions").GetArrayLength();
}

/// <summary>The default server: webhooks may only target public addresses.</summary>
public sealed class WebhookTargetGuardTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("http://127.0.0.1/hooks/keel")]
    [InlineData("http://127.0.0.1:8080/hooks/keel")]
    [InlineData("http://localhost/hooks/keel")]
    [InlineData("http://[::1]/hooks/keel")]
    [InlineData("http://[::ffff:127.0.0.1]/hooks/keel")]
    [InlineData("http://10.0.0.1/hooks/keel")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("http://192.168.1.1/hooks/keel")]
    [InlineData("http://172.16.0.1/hooks/keel")]
    [InlineData("http://100.64.0.1/hooks/keel")]
    [InlineData("http://0.0.0.0/hooks/keel")]
    [InlineData("http://[fd00::1]/hooks/keel")]
    [InlineData("http://[fe80::1]/hooks/keel")]
    [InlineData("http://127.1/hooks/keel")]
    [InlineData("http://2130706433/hooks/keel")]
    [InlineData("http://0x7f000001/hooks/keel")]
    [InlineData("http://[::127.0.0.1]/")]
    [InlineData("http://[::7f00:1]/")]
    [InlineData("http://[::ffff:0:7f00:1]/")]
    [InlineData("http://[64:ff9b:1::7f00:1]/")]
    [InlineData("http://[2001::7f00:1]/")]
    [InlineData("http://[100::1]/")]
    [InlineData("http://192.88.99.1/")]
    public async Task Subscribe_ToANonPublicAddress_Answers400NamingWebhookUrl_AndCreatesNothing(string url)
    {
        var before = await CountAsync();

        var problem = await (await fixture.Client.PostAsync(WebhookApi.SubscribePath, Json(WebhookApi.Body(Service(), url, "*")), Ct))
            .ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Equal(["webhook_url"], problem.ErrorPaths());
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Subscribe_ToAPublicAddress_IsAccepted()
    {
        // Created and deleted at once, with no change in between, so nothing is ever sent there.
        var created = await fixture.Client.SubscribeAsync(Service(), "http://93.184.216.34/hook", "*");

        Assert.Equal("http://93.184.216.34/hook", created.GetProperty("webhook_url").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Client.DeleteAsync(WebhookApi.SubscriptionPath(created), Ct)).StatusCode);
    }

    async Task<int> CountAsync() =>
        (await (await fixture.Client.GetAsync(WebhookApi.ListPath, Ct)).OkJsonAsync()).GetProperty("subscriptions").GetArrayLength();
}
