// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Config;

/// <summary>Listings, history pages, batch reads and flag files carry at most <c>Keel:Limits:MaxAnswerBytes</c> of values, and say where to go on.</summary>
public sealed class AnswerBoundTests(AnswerBoundTests.Fixture fixture) : IClassFixture<AnswerBoundTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override string[] Settings => ["Keel:Limits:MaxAnswerBytes=1024"];
    }

    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task History_EndsAPageAtTheByteBound_AndItsNextPagesHoldTheRest()
    {
        var path = ConfigPath(Service(), "prod", "big");
        for (var i = 1; i <= 5; i++)
        {
            await _client.PutAsync(path, new { config_value = Value(i) });
        }

        var pages = await HistoryPagesAsync(_client, path);

        Assert.Equal([[5, 4], [3, 2], [1]], pages);
    }

    [Fact]
    public async Task AFlagFile_PastTheByteBound_IsRefusedWhole_AndWithinItIsOneDocument()
    {
        var service = Service();
        var description = new string('d', 400);
        for (var i = 1; i <= 2; i++)
        {
            using var put = await _client.PutAsync(
                $"/api/v1/flags/{service}/dev/flag-{i}",
                Json(new { state = "ENABLED", variants = new { on = true, off = false }, defaultVariant = "on", metadata = new { description } }),
                Ct);
            await put.OkJsonAsync(HttpStatusCode.Created);
        }

        Assert.Equal(2, (await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).OkJsonAsync()).GetProperty("flags").EnumerateObject().Count());

        using (var third = await _client.PutAsync(
            $"/api/v1/flags/{service}/dev/flag-3",
            Json(new { state = "ENABLED", variants = new { on = true, off = false }, defaultVariant = "on", metadata = new { description } }),
            Ct))
        {
            await third.OkJsonAsync(HttpStatusCode.Created);
        }

        var problem = await (await _client.GetAsync($"/api/v1/flags/{service}/dev", Ct)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "answer_too_large");
        Assert.Contains("Keel:Limits:MaxAnswerBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_CountsOnlyTheValuesItShows_SoThatAPagesEndTellsNothingOfASecret()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "secret");
        for (var i = 1; i <= 5; i++)
        {
            await _client.PutAsync(path, new { config_value = Value(i), encrypt = true });
        }

        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/prod"]);

        Assert.Equal([[5, 4, 3, 2, 1]], await HistoryPagesAsync(reader, path));
        Assert.Equal([[5, 4], [3, 2], [1]], await HistoryPagesAsync(_client, path));
    }

    [Fact]
    public async Task Batch_DefersTheKeysPastTheByteBound_InTheOrderAsked()
    {
        var service = Service();
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await _client.PutAsync(ConfigPath(service, "prod", key), new { config_value = Value(key[0]) });
        }

        var answer = await (await _client.SendAsync(
            HttpMethod.Post, "/api/v1/config/batch", new { service_name = service, environment = "prod", config_keys = new[] { "d", "x", "b", "a", "c" } }))
            .OkJsonAsync();

        Assert.Equal(["d", "b"], answer.GetProperty("configs").EnumerateArray().Select(c => c.GetProperty("config_key").GetString()));
        Assert.Equal(["x"], answer.GetProperty("missing").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["a", "c"], answer.GetProperty("deferred").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Batch_AlwaysCarriesOneValue_SoThatAskingAgainMovesOn()
    {
        var service = Service();
        var huge = new string('h', 3000);
        await _client.PutAsync(ConfigPath(service, "prod", "huge"), new { config_value = huge });
        await _client.PutAsync(ConfigPath(service, "prod", "next"), new { config_value = "n" });

        var answer = await (await _client.SendAsync(
            HttpMethod.Post, "/api/v1/config/batch", new { service_name = service, environment = "prod", config_keys = new[] { "huge", "next" } }))
            .OkJsonAsync();

        Assert.Equal(huge, Assert.Single(answer.GetProperty("configs").EnumerateArray()).GetProperty("config_value").GetString());
        Assert.Equal(["next"], answer.GetProperty("deferred").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Listing_EndsAPageAtTheByteBound_AndItsCursorLeadsThroughTheRest()
    {
        var service = Service();
        foreach (var key in new[] { "e", "a", "d", "b", "c" })
        {
            await _client.PutAsync(ConfigPath(service, "prod", key), new { config_value = Value(key[0]) });
        }

        var pages = await ListingPagesAsync(_client, service);

        Assert.Equal([["a", "b"], ["c", "d"], ["e"]], pages);
    }

    [Fact]
    public async Task Listing_UnderTheBound_IsOneAnswerWithoutACursor()
    {
        var service = Service();
        await _client.PutAsync(ConfigPath(service, "prod", "a"), new { config_value = "small" });
        await _client.PutAsync(ConfigPath(service, "prod", "b"), new { config_value = "small" });

        var body = await (await _client.GetAsync($"/api/v1/config/{service}/prod", Ct)).OkJsonAsync();

        Assert.Equal(2, body.GetProperty("configs").GetArrayLength());
        Assert.False(body.TryGetProperty("next_cursor", out _));
    }

    [Fact]
    public async Task Listing_CountsOnlyTheValuesItShows()
    {
        var service = Service();
        foreach (var key in new[] { "a", "b", "c" })
        {
            await _client.PutAsync(ConfigPath(service, "prod", key), new { config_value = Value(key[0]), encrypt = true });
        }

        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/prod"]);

        Assert.Equal([["a", "b", "c"]], await ListingPagesAsync(reader, service));
        Assert.Equal([["a", "b"], ["c"]], await ListingPagesAsync(_client, service));
    }

    [Fact]
    public async Task Listing_GoesOnAfterTheCursorsKey_EvenWhenThatKeyIsDeletedMeanwhile()
    {
        var service = Service();
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await _client.PutAsync(ConfigPath(service, "prod", key), new { config_value = Value(key[0]) });
        }

        var first = await (await _client.GetAsync($"/api/v1/config/{service}/prod", Ct)).OkJsonAsync();
        var cursor = first.GetProperty("next_cursor").GetString()!;
        (await _client.DeleteAsync(ConfigPath(service, "prod", "b"), Ct)).EnsureSuccessStatusCode();

        var next = await (await _client.GetAsync($"/api/v1/config/{service}/prod?cursor={cursor}", Ct)).OkJsonAsync();

        Assert.Equal(["c", "d"], next.GetProperty("configs").EnumerateArray().Select(c => c.GetProperty("config_key").GetString()));
    }

    [Theory]
    [MemberData(nameof(BadCursors.Opaque), MemberType = typeof(BadCursors))]
    public async Task Listing_RefusesAnOpaqueCursorItCannotRead(string cursor)
    {
        using var response = await _client.GetAsync($"/api/v1/config/{Service()}/prod?cursor={Uri.EscapeDataString(cursor)}", Ct);

        Assert.Equal(["cursor"], (await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request")).ErrorPaths());
    }

    [Theory]
    [InlineData("not a cursor")]
    [InlineData("s1:a")]
    [InlineData("l1:")]
    [InlineData("l1:bad key")]
    public async Task Listing_RefusesACursorItDidNotGive(string position)
    {
        using var response = await _client.GetAsync($"/api/v1/config/{Service()}/prod?cursor={BadCursors.Encode(position)}", Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(["cursor"], problem.ErrorPaths());
    }

    // 400 bytes: two fit in 1,024, three do not.
    static string Value(int i) => new((char)('a' + (i % 26)), 400);

    static async Task<List<List<string?>>> ListingPagesAsync(HttpClient client, string service)
    {
        List<List<string?>> pages = [];
        var query = "";
        while (pages.Count < 10)
        {
            var body = await (await client.GetAsync($"/api/v1/config/{service}/prod{query}", Ct)).OkJsonAsync();
            pages.Add([.. body.GetProperty("configs").EnumerateArray().Select(c => c.GetProperty("config_key").GetString())]);
            if (!body.TryGetProperty("next_cursor", out var next))
            {
                return pages;
            }

            query = "?cursor=" + next.GetString();
        }

        return pages;
    }

    static async Task<List<List<long>>> HistoryPagesAsync(HttpClient client, string path)
    {
        List<List<long>> pages = [];
        var query = "?limit=10";
        while (pages.Count < 10)
        {
            using var response = await client.GetAsync(path + "/history" + query, Ct);
            var body = await response.OkJsonAsync(HttpStatusCode.OK);
            pages.Add([.. body.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt64())]);
            var next = body.GetProperty("next_before_version");
            if (next.ValueKind == JsonValueKind.Null)
            {
                return pages;
            }

            query = $"?limit=10&before_version={next.GetInt64()}";
        }

        return pages;
    }
}
