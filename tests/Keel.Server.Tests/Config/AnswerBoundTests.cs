// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Config;

/// <summary>History pages and batch reads carry at most <c>Keel:Limits:MaxAnswerBytes</c> of values, and say where to go on.</summary>
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

    // 400 bytes: two fit in 1,024, three do not.
    static string Value(int i) => new((char)('a' + (i % 26)), 400);

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
