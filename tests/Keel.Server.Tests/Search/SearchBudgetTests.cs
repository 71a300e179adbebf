// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Search;

/// <summary>A substring search scans at most <c>Keel:Search:MaxScannedKeys</c> keys per page, and says so when it stops there.</summary>
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
        for (var i = 0; i < 12; i++)
        {
            await fixture.Client.PutValueAsync(service, "prod", $"key{i:D2}", "v");
        }

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
}
