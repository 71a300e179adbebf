// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Webhooks;

/// <summary>A server that may deliver to loopback receivers and retries fast.</summary>
public sealed class WebhookDeliveryFixture : ServerFixture
{
    protected override string[] Settings => WebhookApi.FastSettings();
}

/// <summary>Deliveries to a real HTTP receiver: signed, retried with backoff, in order, dead and redelivered.</summary>
public sealed class WebhookDeliveryTests(WebhookDeliveryFixture fixture) : IClassFixture<WebhookDeliveryFixture>
{
    static readonly string[] PayloadFields =
        ["change_type", "config_key", "environment", "event_type", "revision", "service_name", "timestamp", "version"];

    HttpClient Admin => fixture.Client;

    [Fact]
    public async Task AFlagSubscription_IsDeliveredFlagChanges_AndAConfigurationOneIsNot()
    {
        var service = Service();
        await using var flags = await WebhookReceiver.StartAsync();
        await using var configs = await WebhookReceiver.StartAsync();
        var subscription = await (await Admin.PostAsync(
            WebhookApi.SubscribePath,
            Json(new { service_name = service, environment = WebhookApi.Env, config_keys = new[] { "*" }, webhook_url = flags.Url.ToString(), kind = "flag" }),
            Ct)).OkJsonAsync(HttpStatusCode.Created);
        await Admin.SubscribeAsync(service, configs.Url.ToString(), "*");
        using var badKind = await Admin.PostAsync(
            WebhookApi.SubscribePath,
            Json(new { service_name = service, environment = WebhookApi.Env, config_keys = new[] { "*" }, webhook_url = flags.Url.ToString(), kind = "secrets" }),
            Ct);

        await Admin.PutAsync(
            $"/api/v1/flags/{service}/{WebhookApi.Env}/dark-mode",
            Json("""{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}"""),
            Ct);
        await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "db.url"), new { config_value = "x" });

        var flag = Assert.Single(await flags.WaitForAsync(1)).Json;
        var config = Assert.Single(await configs.WaitForAsync(1)).Json;
        Assert.Equal(("flag_change", WebhookApi.Env, "dark-mode"), (flag.GetProperty("event_type").GetString(), flag.GetProperty("environment").GetString(), flag.GetProperty("config_key").GetString()));
        Assert.Equal(("config_change", "db.url"), (config.GetProperty("event_type").GetString(), config.GetProperty("config_key").GetString()));
        Assert.Equal(("flag", WebhookApi.Env), (subscription.GetProperty("kind").GetString(), subscription.GetProperty("environment").GetString()));
        await badKind.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await Task.Delay(500, Ct);
        Assert.Single(flags.Received);
        Assert.Single(configs.Received);
    }

    [Fact]
    public async Task Put_IsDeliveredSigned_WithoutItsValue_AndRecordedAsDelivered()
    {
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        var created = await Admin.SubscribeAsync(service, receiver.Url.ToString(), "db.*");
        var id = created.GetProperty("subscription_id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        var value = "value-" + Guid.NewGuid().ToString("N");

        var put = await (await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "db.password"), new { config_value = value }))
            .OkJsonAsync(HttpStatusCode.Created);

        var received = (await receiver.WaitForAsync(1))[0];
        var body = received.Json;
        Assert.Equal(PayloadFields, body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("config_change", body.GetProperty("event_type").GetString());
        Assert.Equal(service, body.GetProperty("service_name").GetString());
        Assert.Equal(WebhookApi.Env, body.GetProperty("environment").GetString());
        Assert.Equal("db.password", body.GetProperty("config_key").GetString());
        Assert.Equal(put.GetProperty("version").GetInt64(), body.GetProperty("version").GetInt64());
        Assert.Equal(put.GetProperty("revision").GetInt64(), body.GetProperty("revision").GetInt64());
        Assert.Equal("create", body.GetProperty("change_type").GetString());
        Assert.InRange(body.GetProperty("timestamp").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.DoesNotContain(value, received.Body, StringComparison.Ordinal);
        Assert.Equal(WebhookApi.Sign(secret, received.Body), received.Signature);
        Assert.NotEqual(WebhookApi.Sign(secret + "x", received.Body), received.Signature);
        Assert.Equal("1", received.Attempt);
        Assert.False(string.IsNullOrEmpty(received.DeliveryId));

        var delivery = (await Admin.WaitForDeliveriesAsync(id, l => l.Count == 1 && Status(l[0]) == "delivered")).Single();
        Assert.Equal(received.DeliveryId, delivery.GetProperty("delivery_id").GetString());
        Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(200, delivery.GetProperty("last_status_code").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("last_error").ValueKind);
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_attempt_at").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, delivery.GetProperty("delivered_at").ValueKind);
        Assert.Equal(put.GetProperty("revision").GetInt64(), delivery.GetProperty("revision").GetInt64());
        var subscription = await (await Admin.GetAsync(WebhookApi.SubscriptionPath(created), Ct)).OkJsonAsync();
        Assert.Equal(JsonValueKind.String, subscription.GetProperty("last_notified_at").ValueKind);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task Deliveries_OfOneSubscription_KeepTheirOrder_WhenTheFirstIsRetried()
    {
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, index) => Task.FromResult(index == 0 ? 500 : 200);
        var created = await Admin.SubscribeAsync(service, receiver.Url.ToString(), "*");
        var id = created.GetProperty("subscription_id").GetString()!;

        List<long> revisions = [];
        for (var i = 0; i < 5; i++)
        {
            var put = await (await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, $"k{i}"), new { config_value = "x" })).OkJsonAsync(HttpStatusCode.Created);
            revisions.Add(put.GetProperty("revision").GetInt64());
        }

        var deliveries = await Admin.WaitForDeliveriesAsync(id, l => l.Count == 5 && l.All(d => Status(d) == "delivered"));

        // Every request but the first was answered 200: the deliveries in the order of their first success.
        var received = receiver.Received;
        var succeeded = received.Skip(1).DistinctBy(r => r.DeliveryId).ToList();
        Assert.Equal(revisions, succeeded.Select(r => r.Json.GetProperty("revision").GetInt64()));
        Assert.Equal(received[0].DeliveryId, succeeded[0].DeliveryId);
        Assert.Equal("2", succeeded[0].Attempt);
        Assert.Equal(2, deliveries.Single(d => d.GetProperty("delivery_id").GetString() == received[0].DeliveryId).GetProperty("attempts").GetInt32());
        Assert.Equal(
            succeeded.Select(r => r.DeliveryId).Order(StringComparer.Ordinal),
            deliveries.Select(d => d.GetProperty("delivery_id").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ChangesToOtherKeys_AreNotDelivered_AndADeleteIsDeliveredAsDelete()
    {
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        var created = await Admin.SubscribeAsync(service, receiver.Url.ToString(), "db.*", "feature");
        var id = created.GetProperty("subscription_id").GetString()!;

        await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "cache.size"), new { config_value = "1" });
        await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "feature.x"), new { config_value = "1" });
        await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "DB.host"), new { config_value = "1" });
        await Admin.PutAsync(ConfigPath(service, "prod", "db.host"), new { config_value = "1" });
        await Admin.PutAsync(ConfigPath(service + "-other", WebhookApi.Env, "db.host"), new { config_value = "1" });

        // The outbox is written in each change's transaction: none of these made a delivery, and none is sent.
        Assert.Empty(await Admin.DeliveriesAsync(id));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiver.WaitForAsync(1, TimeSpan.FromSeconds(1.5)));

        var put = await (await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "db.host"), new { config_value = "a" })).OkJsonAsync(HttpStatusCode.Created);
        var deleted = await (await Admin.DeleteAsync(ConfigPath(service, WebhookApi.Env, "db.host"), Ct)).OkJsonAsync();
        var exact = await (await Admin.PutAsync(ConfigPath(service, WebhookApi.Env, "feature"), new { config_value = "on" })).OkJsonAsync(HttpStatusCode.Created);

        var received = await receiver.WaitForAsync(3);
        Assert.Equal(["db.host", "db.host", "feature"], received.Select(r => r.Json.GetProperty("config_key").GetString()));
        Assert.Equal(["create", "delete", "create"], received.Select(r => r.Json.GetProperty("change_type").GetString()));
        Assert.Equal(
            [put.GetProperty("revision").GetInt64(), deleted.GetProperty("revision").GetInt64(), exact.GetProperty("revision").GetInt64()],
            received.Select(r => r.Json.GetProperty("revision").GetInt64()));
        Assert.Equal(2, received[1].Json.GetProperty("version").GetInt64());
        var deliveries = await Admin.WaitForDeliveriesAsync(id, l => l.Count == 3 && l.All(d => Status(d) == "delivered"));
        Assert.Equal(["create", "delete", "create"], deliveries.Reverse().Select(d => d.GetProperty("change_type").GetString()));
    }

    [Fact]
    public async Task FailedAttempts_AreRetriedWithTheSameDeliveryId_AfterAGrowingBackoff()
    {
        // A longer first backoff than the fixture's, so that jitter and scheduling cannot blur the doubling.
        await using var server = await KeelTestServer.StartAsync(null, WebhookApi.FastSettings("Keel:Webhooks:InitialBackoff=00:00:00.500"));
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, index) => Task.FromResult(index < 2 ? 503 : 200);
        var created = await server.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
        var id = created.GetProperty("subscription_id").GetString()!;

        await server.Client.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" });

        var received = await receiver.WaitForAsync(3);
        Assert.Single(received.Select(r => r.DeliveryId).Distinct());
        Assert.Equal(["1", "2", "3"], received.Select(r => r.Attempt));
        Assert.Single(received.Select(r => r.Body).Distinct());
        Assert.Single(received.Select(r => r.Signature).Distinct());
        var firstGap = received[1].At - received[0].At;
        var secondGap = received[2].At - received[1].At;
        Assert.True(firstGap >= TimeSpan.FromMilliseconds(390), $"first retry after {firstGap.TotalMilliseconds} ms");
        Assert.True(secondGap > firstGap, $"second retry after {secondGap.TotalMilliseconds} ms, first after {firstGap.TotalMilliseconds} ms");

        var delivery = (await server.Client.WaitForDeliveriesAsync(id, l => l.Count == 1 && Status(l[0]) == "delivered")).Single();
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(received[0].DeliveryId, delivery.GetProperty("delivery_id").GetString());
        Assert.Equal(200, delivery.GetProperty("last_status_code").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("last_error").ValueKind);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiver.WaitForAsync(4, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Delivery_IsDeadAfterMaxAttempts_WithItsLastError_AndCanBeRedelivered()
    {
        await using var server = await KeelTestServer.StartAsync(null, WebhookApi.FastSettings("Keel:Webhooks:MaxAttempts=2"));
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => Task.FromResult(500);
        var created = await server.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
        var id = created.GetProperty("subscription_id").GetString()!;
        var path = WebhookApi.SubscriptionPath(created);
        await server.Client.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" });

        var dead = (await server.Client.WaitForDeliveriesAsync(id, l => l.Count == 1 && Status(l[0]) == "dead")).Single();

        Assert.Equal(2, dead.GetProperty("attempts").GetInt32());
        Assert.Equal("HTTP 500", dead.GetProperty("last_error").GetString());
        Assert.Equal(500, dead.GetProperty("last_status_code").GetInt32());
        Assert.Equal(JsonValueKind.Null, dead.GetProperty("next_attempt_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, dead.GetProperty("delivered_at").ValueKind);
        Assert.Single(await server.Client.DeliveriesAsync(id, "dead"));
        Assert.Equal(2, receiver.Received.Count);
        var deliveryId = dead.GetProperty("delivery_id").GetString();
        var subscription = await (await server.Client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, subscription.GetProperty("last_notified_at").ValueKind);

        receiver.Respond = (_, _) => Task.FromResult(200);
        using var redeliver = await server.Client.PostAsync($"{path}/deliveries/{deliveryId}/redeliver", null, Ct);
        var pending = await redeliver.OkJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Equal(0, pending.GetProperty("attempts").GetInt32());
        Assert.Equal(deliveryId, pending.GetProperty("delivery_id").GetString());

        var delivered = (await server.Client.WaitForDeliveriesAsync(id, l => l.Count == 1 && Status(l[0]) == "delivered")).Single();
        Assert.Equal(1, delivered.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivered.GetProperty("last_error").ValueKind);
        var received = receiver.Received;
        Assert.Equal(3, received.Count);
        Assert.All(received, r => Assert.Equal(deliveryId, r.DeliveryId));
        Assert.Equal("1", received[2].Attempt);
        Assert.Equal(received[0].Body, received[2].Body);
        subscription = await (await server.Client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal(JsonValueKind.String, subscription.GetProperty("last_notified_at").ValueKind);
        var audit = await (await server.Client.GetAsync($"/api/v1/audit?service_name={service}", Ct)).OkJsonAsync();
        Assert.Contains("delivery.redeliver", audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowReceiver_TimesOut_AndIsRetried()
    {
        await using var server = await KeelTestServer.StartAsync(
            null, WebhookApi.FastSettings("Keel:Webhooks:Timeout=00:00:00.500", "Keel:Webhooks:MaxAttempts=2"));
        var service = Service();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => release.Task;
        try
        {
            var created = await server.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
            var id = created.GetProperty("subscription_id").GetString()!;
            await server.Client.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" });

            var dead = (await server.Client.WaitForDeliveriesAsync(id, l => l.Count == 1 && Status(l[0]) == "dead")).Single();

            Assert.Equal(2, dead.GetProperty("attempts").GetInt32());
            var error = dead.GetProperty("last_error").GetString();
            Assert.Contains("no answer within 0.5 s", error, StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, dead.GetProperty("last_status_code").ValueKind);
            var received = receiver.Received;
            Assert.Equal(2, received.Count);
            Assert.Equal(["1", "2"], received.Select(r => r.Attempt));
            Assert.Single(received.Select(r => r.DeliveryId).Distinct());
        }
        finally
        {
            release.TrySetResult(200);
        }
    }

    [Fact]
    public async Task UnreachableReceiver_IsRetried_WithANetworkError()
    {
        await using var server = await KeelTestServer.StartAsync(null, WebhookApi.FastSettings("Keel:Webhooks:MaxAttempts=2"));
        var service = Service();
        var created = await server.Client.SubscribeAsync(service, "http://127.0.0.1:9/hooks/keel", "*");
        var id = created.GetProperty("subscription_id").GetString()!;
        await server.Client.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" });

        var dead = (await server.Client.WaitForDeliveriesAsync(id, l => l.Count == 1 && Status(l[0]) == "dead")).Single();

        Assert.Equal(2, dead.GetProperty("attempts").GetInt32());
        Assert.StartsWith("request failed:", dead.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", dead.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, dead.GetProperty("last_status_code").ValueKind);
    }

    [Fact]
    public async Task LongBackoffs_AreCappedAtMaxBackoff_AndNeverBecomeATightLoop()
    {
        // Waits of a day doubling 25 times exceed what a TimeSpan holds; the cap must apply before that matters.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await KeelTestServer.StartAsync(
            null,
            builder => builder.Services.AddSingleton<TimeProvider>(time),
            WebhookApi.FastSettings("Keel:Webhooks:InitialBackoff=1.00:00:00", "Keel:Webhooks:MaxBackoff=7.00:00:00", "Keel:Webhooks:MaxAttempts=30"));
        var service = Service();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => Task.FromResult(503);
        var created = await server.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
        var id = created.GetProperty("subscription_id").GetString()!;
        await server.Client.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" });

        for (var attempt = 1; attempt <= 25; attempt++)
        {
            await AwaitAttemptAsync(attempt);

            // The clock stands still until the attempt is recorded, so every retry waits for it: a request before is a tight loop.
            if (attempt >= 24)
            {
                await Task.Delay(500, Ct);
                Assert.True(
                    receiver.Received.Count == attempt,
                    $"Attempt {attempt} was repeated {receiver.Received.Count - attempt} times within 0.5 s while the clock stood still.");
            }

            var pending = (await server.Client.WaitForDeliveriesAsync(
                id, l => l.Count == 1 && l[0].GetProperty("attempts").GetInt32() == attempt, TimeSpan.FromSeconds(5))).Single();
            Assert.Equal("pending", Status(pending));
            var wait = pending.GetProperty("next_attempt_at").GetDateTimeOffset() - pending.GetProperty("last_attempt_at").GetDateTimeOffset();
            Assert.InRange(wait, TimeSpan.FromHours(19), TimeSpan.FromDays(7 * 1.2));
            time.Advance(TimeSpan.FromDays(9));
        }

        // The dispatcher may arm its next poll timer just after the advance, measured from the new time, so the clock is
        // nudged by one poll interval until the attempt arrives; a nudge cannot make a retry due that waits hours.
        async Task AwaitAttemptAsync(int attempt)
        {
            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
            while (receiver.Received.Count < attempt)
            {
                Assert.True(DateTimeOffset.UtcNow < deadline, $"Attempt {attempt} did not arrive within 10 s.");
                await Task.Delay(100, Ct);
                time.Advance(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    static string? Status(JsonElement delivery) => delivery.GetProperty("status").GetString();
}

/// <summary>A delivery survives the server dying in the middle of it.</summary>
[Collection(SoakCollection.Name)]
public sealed class WebhookRestartTests
{
    [Fact]
    public async Task DeliveryInFlight_WhenTheServerIsKilled_IsSentAgainWithTheSameId_AfterARestart()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var service = Service();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, index) => index == 0 ? release.Task : Task.FromResult(200);
        string[] args =
        [
            "--urls", "http://127.0.0.1:0", "--data-dir", dataDir,
            .. WebhookApi.FastSettings().Select(s => "--" + s),
        ];
        try
        {
            string id;
            await using (var first = await KeelServerProcess.StartAsync(args))
            {
                var created = await first.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
                id = created.GetProperty("subscription_id").GetString()!;
                await (await first.Client.PutAsync(ConfigPath(service, WebhookApi.Env, "k"), new { config_value = "x" })).OkJsonAsync(HttpStatusCode.Created);
                await receiver.WaitForAsync(1);

                first.Kill();
            }

            release.TrySetResult(200);
            var held = receiver.Received[0];

            await using var second = await KeelServerProcess.StartAsync(args);
            var received = await receiver.WaitForAsync(2);
            Assert.Equal(held.DeliveryId, received[1].DeliveryId);
            Assert.Equal(held.Body, received[1].Body);
            Assert.Equal(held.Signature, received[1].Signature);
            var delivery = (await second.Client.WaitForDeliveriesAsync(id, l => l.Count == 1 && l[0].GetProperty("status").GetString() == "delivered")).Single();
            Assert.Equal(held.DeliveryId, delivery.GetProperty("delivery_id").GetString());
            Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
        }
        finally
        {
            release.TrySetResult(200);
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }
}

/// <summary>Calls of the webhook API shared by the webhook tests.</summary>
static class WebhookApi
{
    public const string Env = "dev";
    public const string SubscribePath = "/api/v1/config/subscribe";
    public const string ListPath = "/api/v1/config/subscriptions";

    /// <summary>Loopback targets allowed, fast retries and polling; later settings win over earlier ones.</summary>
    public static string[] FastSettings(params string[] extra) =>
    [
        "Keel:Webhooks:AllowPrivateNetworks=true",
        "Keel:Webhooks:InitialBackoff=00:00:00.200",
        "Keel:Webhooks:MaxBackoff=00:00:05",
        "Keel:Webhooks:PollInterval=00:00:00.200",
        "Keel:Webhooks:MaxAttempts=5",
        "Keel:Webhooks:LeaseDuration=00:00:06",
        .. extra,
    ];

    public static object Body(string service, string url, params string[] keys) =>
        new { service_name = service, environment = Env, config_keys = keys, webhook_url = url };

    public static string SubscriptionPath(JsonElement subscription) =>
        $"{ListPath}/{subscription.GetProperty("subscription_id").GetString()}";

    public static async Task<JsonElement> SubscribeAsync(this HttpClient client, string service, string url, params string[] keys)
    {
        using var response = await client.PostAsync(SubscribePath, Json(Body(service, url, keys)), Ct);
        return await response.OkJsonAsync(HttpStatusCode.Created);
    }

    /// <summary>The subscription's deliveries, newest first.</summary>
    public static async Task<IReadOnlyList<JsonElement>> DeliveriesAsync(this HttpClient client, string subscriptionId, string? status = null)
    {
        var query = status is null ? string.Empty : "?status=" + status;
        using var response = await client.GetAsync($"{ListPath}/{subscriptionId}/deliveries{query}", Ct);
        return [.. (await response.OkJsonAsync()).GetProperty("deliveries").EnumerateArray()];
    }

    /// <summary>Reads the deliveries until <paramref name="done"/> holds, for at most <paramref name="timeout"/> (20 seconds).</summary>
    public static async Task<IReadOnlyList<JsonElement>> WaitForDeliveriesAsync(
        this HttpClient client, string subscriptionId, Func<IReadOnlyList<JsonElement>, bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var deliveries = await client.DeliveriesAsync(subscriptionId);
            if (done(deliveries))
            {
                return deliveries;
            }

            if (clock.Elapsed > limit)
            {
                Assert.Fail($"The deliveries did not reach the expected state within {limit}: " + JsonSerializer.Serialize(deliveries));
            }

            await Task.Delay(50, Ct);
        }
    }

    /// <summary>What a receiver computes to check <c>X-Keel-Signature</c>.</summary>
    public static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
}
