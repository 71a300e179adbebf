// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Search;

/// <summary>
/// A substring search scans at most <c>Keel:Search:MaxScannedKeys</c> keys per page, and says so when it stops there; a text
/// of three characters or more that few keys hold is read from SQLite's substring index instead, within one page.
/// </summary>
public sealed class SearchBudgetTests(SearchBudgetTests.Fixture fixture) : IClassFixture<SearchBudgetTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override string[] Settings => ["Keel:Search:MaxScannedKeys=5"];
    }

    [Fact]
    public async Task ASearchPastItsBudget_AnswersWhatItFound_WithACursorToGoOn()
    {
        var service = Service();
        await PutTwelveKeysAsync(fixture.Client, service);

        var first = await (await fixture.Client.GetAsync($"/api/v1/search?service_name={service}&q=11", Ct)).OkJsonAsync();

        Assert.Empty(first.GetProperty("results").EnumerateArray());
        Assert.True(first.GetProperty("scan_budget_reached").GetBoolean());
        var cursor = first.GetProperty("next_cursor").GetString();
        Assert.NotNull(cursor);

        List<string?> found = [];
        var pages = 1;
        while (cursor is not null && pages < 10)
        {
            var page = await (await fixture.Client.GetAsync($"/api/v1/search?service_name={service}&q=11&cursor={cursor}", Ct)).OkJsonAsync();
            found.AddRange(page.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("config_key").GetString()));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }

        Assert.Equal(["key11"], found);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task ASearchWithinItsBudget_SaysItDidNotReachIt()
    {
        var service = Service();
        await fixture.Client.PutValueAsync(service, "prod", "only", "v");

        var page = await (await fixture.Client.GetAsync($"/api/v1/search?service_name={service}&q=only", Ct)).OkJsonAsync();

        Assert.Single(page.GetProperty("results").EnumerateArray());
        Assert.False(page.GetProperty("scan_budget_reached").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, page.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task ARareTextOfThreeCharactersOrMore_IsFoundInOnePage_ThroughTheSubstringIndex()
    {
        var service = Service();
        await PutTwelveKeysAsync(fixture.Client, service);

        var page = await (await fixture.Client.GetAsync($"/api/v1/search?service_name={service}&q=Y11", Ct)).OkJsonAsync();

        Assert.Equal(["key11"], page.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("config_key").GetString()));
        Assert.False(page.GetProperty("scan_budget_reached").GetBoolean());
    }

    [Fact]
    public async Task WithoutTheSubstringIndex_TheSameSearchWalksKeys_WithinTheBudget()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Search:MaxScannedKeys=5", "Keel:Search:MaxIndexedCandidates=0");
        var client = server.Client;
        var service = Service();
        await PutTwelveKeysAsync(client, service);

        var page = await (await client.GetAsync($"/api/v1/search?service_name={service}&q=Y11", Ct)).OkJsonAsync();

        Assert.Empty(page.GetProperty("results").EnumerateArray());
        Assert.True(page.GetProperty("scan_budget_reached").GetBoolean());
    }

    // key00 to key11, in one service.
    static async Task PutTwelveKeysAsync(HttpClient client, string service)
    {
        for (var i = 0; i < 12; i++)
        {
            await client.PutValueAsync(service, "prod", $"key{i:D2}", "v");
        }
    }
}
