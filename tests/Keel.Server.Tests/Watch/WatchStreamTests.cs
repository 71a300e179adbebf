// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Core.Changes;
using Keel.Core.Storage;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Watch;

/// <summary>A server whose in-memory feed is small and whose streams beat fast, so that store catch-up and heartbeats show.</summary>
public sealed class WatchFixture : ServerFixture
{
    protected override string[] Settings =>
    [
        "Keel:ChangeFeed:BufferedChanges=16",
        "Keel:Watch:HeartbeatInterval=00:00:00.300",
    ];
}

public sealed class WatchStreamTests(WatchFixture fixture) : IClassFixture<WatchFixture>
{
    [Fact]
    public async Task Stream_SendsEachChange_WithItsRevisionAsId()
    {
        var service = Service();
        await using var watch = await SseClient.ConnectAsync(fixture.Client, $"/api/v1/watch?service_name={service}");
        var opening = await watch.NextFrameAsync();
        Assert.Equal("1000", opening.Retry);

        var created = await PutAsync(service, "dev", "db.url", "a");
        var updated = await PutAsync(service, "dev", "db.url", "b");
        var deleted = await (await fixture.Client.DeleteAsync(ConfigPath(service, "dev", "db.url"), Ct)).OkJsonAsync();

        var events = await watch.NextEventsAsync(3);
        Assert.All(events, e => Assert.Equal("config_change", e.Event));
        Assert.Equal(
            [created.GetProperty("revision").GetInt64(), updated.GetProperty("revision").GetInt64(), deleted.GetProperty("revision").GetInt64()],
            events.Select(e => long.Parse(e.Id!, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(["create", "update", "delete"], events.Select(e => e.Json.GetProperty("change_type").GetString()));
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Json.GetProperty("version").GetInt64()));
        var first = events[0].Json;
        Assert.Equal(service, first.GetProperty("service_name").GetString());
        Assert.Equal("dev", first.GetProperty("environment").GetString());
        Assert.Equal("db.url", first.GetProperty("config_key").GetString());
        Assert.Equal(created.GetProperty("updated_at").GetString(), first.GetProperty("updated_at").GetString());
        Assert.All(events, e => Assert.False(e.Json.TryGetProperty("config_value", out _)));
    }

    [Fact]
    public async Task Stream_FiltersByEnvironmentKeysAndPrefix()
    {
        var service = Service();
        await using var watch = await SseClient.ConnectAsync(
            fixture.Client, $"/api/v1/watch?service_name={service}&environment=prod&keys=a,b&prefix=feature.");

        await PutAsync(service, "prod", "c", "x");
        await PutAsync(service, "dev", "a", "x");
        var a = await PutAsync(service, "prod", "a", "x");
        await PutAsync(service + "-other", "prod", "a", "x");
        var feature = await PutAsync(service, "prod", "feature.dark-mode", "x");
        await PutAsync(service, "prod", "featureless", "x");
        var b = await PutAsync(service, "prod", "b", "x");

        var events = await watch.NextEventsAsync(3);
        Assert.Equal(
            [a.GetProperty("revision").GetInt64(), feature.GetProperty("revision").GetInt64(), b.GetProperty("revision").GetInt64()],
            events.Select(e => e.Json.GetProperty("revision").GetInt64()));
        Assert.False(await watch.ReceivesEventWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Stream_ResumedWithLastEventId_MissesNothing_AndRepeatsNothing()
    {
        var service = Service();
        var start = await RevisionAsync();
        string lastId;
        await using (var first = await SseClient.ConnectAsync(fixture.Client, $"/api/v1/watch?service_name={service}&since_revision={start}"))
        {
            await PutAsync(service, "dev", "k", "1");
            await first.NextEventsAsync(1);
            lastId = first.LastEventId!;
        }

        // Written while no one watches: more than the in-memory feed holds, so the resume reads the store.
        List<long> missed = [];
        for (var i = 0; i < 40; i++)
        {
            missed.Add((await PutAsync(service, "dev", "k", $"{i + 2}")).GetProperty("revision").GetInt64());
        }

        // EventSource reuses its URL: since_revision still says the start, and Last-Event-ID wins.
        await using var resumed = await SseClient.ConnectAsync(
            fixture.Client, $"/api/v1/watch?service_name={service}&since_revision={start}", lastEventId: lastId);
        var events = await resumed.NextEventsAsync(40);

        Assert.Equal(missed, events.Select(e => e.Json.GetProperty("revision").GetInt64()));
        Assert.False(await resumed.ReceivesEventWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Stream_FromSinceRevision_ReplaysThenFollows()
    {
        var service = Service();
        var start = await RevisionAsync();
        var before = await PutAsync(service, "dev", "k", "1");

        await using var watch = await SseClient.ConnectAsync(fixture.Client, $"/api/v1/watch?service_name={service}&since_revision={start}");
        var after = await PutAsync(service, "dev", "k", "2");

        var events = await watch.NextEventsAsync(2);
        Assert.Equal(
            [before.GetProperty("revision").GetInt64(), after.GetProperty("revision").GetInt64()],
            events.Select(e => e.Json.GetProperty("revision").GetInt64()));
    }

    [Fact]
    public async Task Stream_ShowsOnlyWhatTheTokensScopesCover()
    {
        var service = Service();
        using var scoped = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/dev"]);
        await using var watch = await SseClient.ConnectAsync(scoped, "/api/v1/watch");

        await PutAsync(service, "prod", "k", "x");
        await PutAsync(service + "-other", "dev", "k", "x");
        var covered = await PutAsync(service, "dev", "k", "x");

        var only = Assert.Single(await watch.NextEventsAsync(1));
        Assert.Equal(covered.GetProperty("revision").GetInt64(), only.Json.GetProperty("revision").GetInt64());
        Assert.False(await watch.ReceivesEventWithinAsync(TimeSpan.FromMilliseconds(500)));

        var refused = await scoped.GetAsync($"/api/v1/watch?service_name={service}&environment=prod", Ct);
        await refused.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Stream_Heartbeats_AndMovesLastEventIdPastFilteredChanges()
    {
        var service = Service();
        await using var watch = await SseClient.ConnectAsync(fixture.Client, $"/api/v1/watch?service_name={service}&keys=watched");
        var unwatched = await PutAsync(service, "dev", "unwatched", "x");
        var revision = unwatched.GetProperty("revision").GetInt64();

        SseFrame frame;
        do
        {
            frame = await watch.NextFrameAsync(TimeSpan.FromSeconds(5));
            Assert.Null(frame.Data);
        }
        while (frame.Id is null || long.Parse(frame.Id, System.Globalization.CultureInfo.InvariantCulture) < revision);

        Assert.Contains("heartbeat", frame.Comments);
        Assert.Equal(revision, long.Parse(watch.LastEventId!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Stream_FromBeforeTheRetainedFeed_IsGone()
    {
        var service = Service();
        var start = await RevisionAsync();
        for (var i = 0; i < 5; i++)
        {
            await PutAsync(service, "dev", "k", $"{i}");
        }

        var compacted = await fixture.Server.GetRequiredService<IChangeFeedStore>()
            .CompactChangesAsync(new ChangeRetention(2, TimeSpan.FromDays(7)), Ct);

        using var stream = await fixture.Client.GetAsync($"/api/v1/watch?service_name={service}&since_revision={start}", Ct);
        var problem = await stream.ProblemAsync(HttpStatusCode.Gone, "revision_compacted");
        Assert.Equal(compacted, problem.GetProperty("compacted_revision").GetInt64());
        using var resumed = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/watch?service_name={service}");
        resumed.Headers.TryAddWithoutValidation("Last-Event-ID", start.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await (await fixture.Client.SendAsync(resumed, Ct)).ProblemAsync(HttpStatusCode.Gone, "revision_compacted");
        using var ahead = await fixture.Client.GetAsync($"/api/v1/watch?since_revision={long.MaxValue / 2}", Ct);
        await ahead.ProblemAsync(HttpStatusCode.Gone, "revision_ahead");

        // The snapshot says where to resume.
        var snapshot = await (await fixture.Client.GetAsync($"/api/v1/config/{service}/dev", Ct)).OkJsonAsync();
        await using var watch = await SseClient.ConnectAsync(
            fixture.Client, $"/api/v1/watch?service_name={service}&since_revision={snapshot.GetProperty("revision").GetInt64()}");
        var next = await PutAsync(service, "dev", "k", "after");
        Assert.Equal(next.GetProperty("revision").GetInt64(), (await watch.NextEventsAsync(1))[0].Json.GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task Stream_EndsWhenItsTokenIsRevoked()
    {
        using var created = await fixture.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "watcher", permissions = new[] { "read" }, scopes = new[] { "*/*" } }), Ct);
        var token = await created.OkJsonAsync(HttpStatusCode.Created);
        using var client = fixture.Server.CreateClient(token.GetProperty("token").GetString());
        await using var watch = await SseClient.ConnectAsync(client, "/api/v1/watch");

        await fixture.Client.DeleteAsync("/api/v1/tokens/" + token.GetProperty("id").GetString(), Ct);

        await watch.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task Stream_EndsAsSoonAsItsTokenIsRevoked_NotAtItsNextHeartbeat()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Watch:HeartbeatInterval=00:05:00");
        using var created = await server.Client.PostAsync(
            "/api/v1/tokens", Json(new { name = "watcher", permissions = new[] { "read" }, scopes = new[] { "*/*" } }), Ct);
        var token = await created.OkJsonAsync(HttpStatusCode.Created);
        using var client = server.CreateClient(token.GetProperty("token").GetString());
        await using var watch = await SseClient.ConnectAsync(client, "/api/v1/watch");
        await watch.NextFrameAsync();

        using (var revoked = await server.Client.DeleteAsync("/api/v1/tokens/" + token.GetProperty("id").GetString(), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await watch.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task Stream_EndsWhenItsTokenExpires_NotAtItsNextHeartbeat()
    {
        // Timers fire early against the wall clock, as the runtime's coarse monotonic clock lets them by a few milliseconds: the
        // stream still ends only once its token has expired.
        await using var server = await KeelTestServer.StartAsync(
            null,
            builder => builder.Services.AddSingleton<TimeProvider>(new EarlyTimers(TimeSpan.FromMilliseconds(400))),
            "Keel:Watch:HeartbeatInterval=00:05:00");
        using var created = await server.Client.PostAsync(
            "/api/v1/tokens",
            Json(new { name = "watcher", permissions = new[] { "read" }, scopes = new[] { "*/*" }, expires_at = DateTimeOffset.UtcNow.AddSeconds(2) }),
            Ct);
        var token = await created.OkJsonAsync(HttpStatusCode.Created);
        using var client = server.CreateClient(token.GetProperty("token").GetString());
        await using var watch = await SseClient.ConnectAsync(client, "/api/v1/watch");

        await watch.Completion.WaitAsync(TimeSpan.FromSeconds(15), Ct);

        // A new client, as a reconnecting one has: the ended stream's connection may be closing as the next request goes out.
        using var reconnecting = server.CreateClient(token.GetProperty("token").GetString());
        await (await reconnecting.GetAsync("/api/v1/watch", Ct)).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Theory]
    [InlineData("since_revision=-1", "since_revision")]
    [InlineData("since_revision=abc", "since_revision")]
    [InlineData("service_name=Bad_Name", "service_name")]
    [InlineData("environment=", "environment")]
    [InlineData("keys=a,,b", "keys")]
    [InlineData("prefix=has%20space", "prefix")]
    public async Task Stream_WithABadParameter_IsRefused(string query, string field)
    {
        using var response = await fixture.Client.GetAsync("/api/v1/watch?" + query, Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains(field, problem.ErrorPaths());
    }

    [Theory]
    [MemberData(nameof(BadCursors.Integers), MemberType = typeof(BadCursors))]
    [InlineData("0&since_revision=1")]
    public async Task Stream_WithABadSinceRevision_Answers400NamingIt(string sinceRevision)
    {
        using var response = await fixture.Client.GetAsync("/api/v1/watch?since_revision=" + sinceRevision, HttpCompletionOption.ResponseHeadersRead, Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(["since_revision"], problem.ErrorPaths());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("+1")]
    [InlineData("0x1")]
    [InlineData("1,2")]
    [InlineData("99999999999999999999")]
    public async Task Stream_WithABadLastEventId_Answers400NamingIt(string lastEventId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/watch");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);

        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(["Last-Event-ID"], problem.ErrorPaths());
    }

    [Fact]
    public async Task Stream_WithoutAToken_IsUnauthorized()
    {
        using var anonymous = fixture.Server.CreateClient(null);

        await (await anonymous.GetAsync("/api/v1/watch", Ct)).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    Task<System.Text.Json.JsonElement> PutAsync(string service, string environment, string key, string value) =>
        fixture.Client.PutValueAsync(service, environment, key, value);

    async Task<long> RevisionAsync() =>
        await fixture.Server.GetRequiredService<IStoreLifecycle>().GetRevisionAsync(Ct);
}

/// <summary>The system's clock, with timers that fire <paramref name="early"/> before their due time once it is longer than that.</summary>
sealed class EarlyTimers(TimeSpan early) : TimeProvider
{
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime > early ? dueTime - early : dueTime, period);
}
