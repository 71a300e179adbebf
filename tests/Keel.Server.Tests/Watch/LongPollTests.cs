// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using Keel.Core.Storage;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Watch;

public sealed class LongPollTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Changes_AfterARevision_AnswerAtOnce_EndingOnTheLastRevision()
    {
        var service = Service();
        var start = await RevisionAsync();
        var first = await fixture.Client.PutValueAsync(service, "dev", "a", "1");
        var second = await fixture.Client.PutValueAsync(service, "dev", "b", "1");

        // The poll is asked what the feed holds, not how fast it fills.
        await fixture.Server.FeedSettledAsync();

        var body = await GetChangesAsync($"service_name={service}&since_revision={start}&wait=30");

        Assert.Equal(
            [first.GetProperty("revision").GetInt64(), second.GetProperty("revision").GetInt64()],
            body.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("revision").GetInt64()));
        Assert.Equal(second.GetProperty("revision").GetInt64(), body.GetProperty("revision").GetInt64());
        Assert.Equal("a", body.GetProperty("changes")[0].GetProperty("config_key").GetString());
    }

    [Fact]
    public async Task Changes_WithNothingNew_HoldForTheWait_ThenAnswerEmptyWithTheCurrentRevision()
    {
        var service = Service();
        await fixture.Client.PutValueAsync(service, "dev", "a", "1");
        var current = await RevisionAsync();
        var clock = Stopwatch.StartNew();

        var body = await GetChangesAsync($"service_name={service}&since_revision={current}&wait=1");

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"answered after {clock.Elapsed}");
        Assert.Empty(body.GetProperty("changes").EnumerateArray());
        Assert.True(body.GetProperty("revision").GetInt64() >= current);
    }

    [Fact]
    public async Task Changes_WhileHolding_AnswerAsSoonAsAMatchingChangeCommits()
    {
        var service = Service();
        var current = await RevisionAsync();
        var clock = Stopwatch.StartNew();
        var poll = GetChangesAsync($"service_name={service}&keys=k&since_revision={current}&wait=30");
        await Task.Delay(200, Ct);
        await fixture.Client.PutValueAsync(service, "dev", "other", "1");
        var change = await fixture.Client.PutValueAsync(service, "dev", "k", "1");

        var body = await poll;

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"answered after {clock.Elapsed}");
        var only = Assert.Single(body.GetProperty("changes").EnumerateArray());
        Assert.Equal(change.GetProperty("revision").GetInt64(), only.GetProperty("revision").GetInt64());
        Assert.Equal(change.GetProperty("revision").GetInt64(), body.GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task Changes_PolledInALoop_SeeEveryChangeOnce()
    {
        var service = Service();
        var position = await RevisionAsync();
        var writes = Task.Run(async () =>
        {
            List<long> revisions = [];
            for (var i = 0; i < 30; i++)
            {
                revisions.Add((await fixture.Client.PutValueAsync(service, "dev", $"k{i % 3}", $"{i}")).GetProperty("revision").GetInt64());
            }

            return revisions;
        });

        List<long> seen = [];
        var deadline = Stopwatch.StartNew();
        while (seen.Count < 30 && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var body = await GetChangesAsync(
                string.Create(CultureInfo.InvariantCulture, $"service_name={service}&since_revision={position}&wait=5"));
            seen.AddRange(body.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("revision").GetInt64()));
            position = body.GetProperty("revision").GetInt64();
        }

        Assert.Equal(await writes, seen);
    }

    [Theory]
    [InlineData("wait=61", "wait")]
    [InlineData("wait=-1", "wait")]
    [InlineData("since_revision=x", "since_revision")]
    [InlineData("keys=", "keys")]
    public async Task Changes_WithABadParameter_AreRefused(string query, string field)
    {
        using var response = await fixture.Client.GetAsync("/api/v1/changes?" + query, Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains(field, problem.ErrorPaths());
    }

    [Theory]
    [MemberData(nameof(BadCursors.Integers), MemberType = typeof(BadCursors))]
    [InlineData("0&since_revision=1")]
    public async Task Changes_WithABadSinceRevision_Answers400NamingIt(string sinceRevision)
    {
        using var response = await fixture.Client.GetAsync("/api/v1/changes?wait=0&since_revision=" + sinceRevision, Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(["since_revision"], problem.ErrorPaths());
    }

    [Fact]
    public async Task Changes_OutsideTheTokensScopes_AreFilteredOrForbidden()
    {
        var service = Service();
        var start = await RevisionAsync();
        using var scoped = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/dev"]);
        await fixture.Client.PutValueAsync(service, "prod", "k", "1");
        var covered = await fixture.Client.PutValueAsync(service, "dev", "k", "1");

        using var response = await scoped.GetAsync($"/api/v1/changes?since_revision={start}&wait=0", Ct);
        var body = await response.OkJsonAsync();
        Assert.Equal(
            [covered.GetProperty("revision").GetInt64()],
            body.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("revision").GetInt64()));

        using var refused = await scoped.GetAsync($"/api/v1/changes?service_name={service}&environment=prod", Ct);
        await refused.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Changes_FromBeforeTheRetainedFeed_AreGone()
    {
        var service = Service();
        var start = await RevisionAsync();
        for (var i = 0; i < 4; i++)
        {
            await fixture.Client.PutValueAsync(service, "dev", "k", $"{i}");
        }

        await fixture.Server.GetRequiredService<IChangeFeedStore>().CompactChangesAsync(new(1, TimeSpan.FromDays(7)), Ct);

        using var response = await fixture.Client.GetAsync($"/api/v1/changes?since_revision={start}&wait=0", Ct);
        var problem = await response.ProblemAsync(HttpStatusCode.Gone, "revision_compacted");
        Assert.Contains("Re-read", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changes_OfATokenRevokedWhileHolding_AreNotDelivered()
    {
        var service = Service();
        var (secret, id) = await CreateReaderAsync(service, expiresAt: null);
        using var client = fixture.Server.CreateClient(secret);
        var current = await RevisionAsync();
        var clock = Stopwatch.StartNew();
        var poll = client.GetAsync($"/api/v1/changes?service_name={service}&since_revision={current}&wait=10", Ct);
        await WatchAdmissionTests.WaitUntilHeldAsync(fixture.Server);

        using (var revoked = await fixture.Client.DeleteAsync("/api/v1/tokens/" + id, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await fixture.Client.PutValueAsync(service, "dev", "k", "written after the revocation");

        using var response = await poll;
        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.False(problem.TryGetProperty("changes", out _));
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"answered after {clock.Elapsed}, not when the token was revoked");
    }

    [Fact]
    public async Task Changes_OfATokenThatExpiresWhileHolding_AreNotDelivered()
    {
        var service = Service();
        var (secret, _) = await CreateReaderAsync(service, expiresAt: DateTimeOffset.UtcNow.AddSeconds(2));
        using var client = fixture.Server.CreateClient(secret);
        var current = await RevisionAsync();
        var clock = Stopwatch.StartNew();
        var poll = client.GetAsync($"/api/v1/changes?service_name={service}&since_revision={current}&wait=10", Ct);

        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        await fixture.Client.PutValueAsync(service, "dev", "k", "written after the expiry");

        using var response = await poll;
        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.False(problem.TryGetProperty("changes", out _));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"answered after {clock.Elapsed}, not when the token expired");
    }

    async Task<(string Secret, string Id)> CreateReaderAsync(string service, DateTimeOffset? expiresAt)
    {
        using var created = await fixture.Client.PostAsync(
            "/api/v1/tokens",
            Json(new { name = "poller", permissions = new[] { "read" }, scopes = new[] { $"{service}/dev" }, expires_at = expiresAt }),
            Ct);
        var token = await created.OkJsonAsync(HttpStatusCode.Created);
        return (token.GetProperty("token").GetString()!, token.GetProperty("id").GetString()!);
    }

    async Task<System.Text.Json.JsonElement> GetChangesAsync(string query)
    {
        using var response = await fixture.Client.GetAsync("/api/v1/changes?" + query, Ct);
        return await response.OkJsonAsync();
    }

    async Task<long> RevisionAsync() => await fixture.Server.GetRequiredService<IStoreLifecycle>().GetRevisionAsync(Ct);
}
