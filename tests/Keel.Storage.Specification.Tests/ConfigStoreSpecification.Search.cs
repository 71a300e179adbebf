// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Security;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>Search across services and the per-service listing that schema checks read, as every backend must answer them.</summary>
public abstract partial class ConfigStoreSpecification<TFixture>
{
    [Fact]
    public virtual async Task Search_ByPrefix_IgnoresCase_AndOrdersByFoldedKeyThenServiceEnvironmentAndKey()
    {
        var a = Service() + "-a";
        var b = a[..^1] + "b";
        await PutAsync(new ConfigId(a, "prod", "db.port"), "1");
        await PutAsync(new ConfigId(b, "dev", "db.host"), "2");
        await PutAsync(new ConfigId(a, "dev", "DB.Host"), "3");
        await PutAsync(new ConfigId(a, "dev", "dbx"), "4");
        await PutAsync(new ConfigId(a, "dev", "cache.db.host"), "5");

        var page = await Store.SearchAsync(new SearchQuery { Prefix = "Db.", Scopes = Scopes($"{a}/*", $"{b}/*"), Limit = 10 }, Ct);

        Assert.Equal(
            [(a, "dev", "DB.Host"), (b, "dev", "db.host"), (a, "prod", "db.port")],
            page.Results.Select(r => (r.Id.ServiceName, r.Id.Environment, r.Id.Key)));
        Assert.Null(page.Next);
    }

    [Fact]
    public virtual async Task Search_WithAScanBudget_StopsThere_AndItsCursorsReachEveryResultInOrder()
    {
        var service = Service();
        var keys = Enumerable.Range(0, 30).Select(i => $"k{i:D2}").ToList();
        foreach (var key in keys)
        {
            await PutAsync(new ConfigId(service, Number(key) % 2 == 0 ? "prod" : "dev", key), "1");
        }

        // k07, k17 and k27 match, ten keys apart: most pages of four scanned keys find none.
        var expected = await Store.SearchAsync(new SearchQuery { Text = "7", ServiceName = service, Limit = 100 }, Ct);
        Assert.Equal(["k07", "k17", "k27"], expected.Results.Select(r => r.Id.Key));

        List<string> found = [];
        List<bool> budgets = [];
        SearchPosition? after = null;
        var pages = 0;
        do
        {
            var page = await Store.SearchAsync(new SearchQuery { Text = "7", ServiceName = service, Limit = 2, After = after, MaxScannedKeys = 4 }, Ct);
            Assert.InRange(page.Results.Count, 0, 2);
            found.AddRange(page.Results.Select(r => r.Id.Key));
            budgets.Add(page.BudgetReached);
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 20);

        Assert.Equal(["k07", "k17", "k27"], found);
        Assert.Null(after);
        Assert.True(budgets.Count(b => b) >= 6, $"{budgets.Count(b => b)} of {pages} pages stopped at the budget");

        // Filters other than the text count against the budget too: one scan of 4 keys from the start holds k00–k03.
        var prod = await Store.SearchAsync(new SearchQuery { ServiceName = service, Environment = "prod", Limit = 10, MaxScannedKeys = 4 }, Ct);
        Assert.Equal(["k00", "k02"], prod.Results.Select(r => r.Id.Key));
        Assert.True(prod.BudgetReached);
        Assert.Equal("k03", prod.Next?.Key);

        static int Number(string key) => int.Parse(key[1..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public virtual async Task Search_ByText_FindsItAnywhereInTheKey_TakingWildcardCharactersLiterally()
    {
        var service = Service();
        foreach (var key in new[] { "pool_size", "pool%size", "poolXsize", "MAX_POOL_SIZE", "size" })
        {
            await PutAsync(new ConfigId(service, "dev", key), "1");
        }

        var underscore = await Store.SearchAsync(new SearchQuery { Text = "_SIZE", ServiceName = service, Limit = 10 }, Ct);
        var percent = await Store.SearchAsync(new SearchQuery { Text = "%", ServiceName = service, Limit = 10 }, Ct);
        var both = await Store.SearchAsync(new SearchQuery { Text = "size", Prefix = "pool", ServiceName = service, Limit = 10 }, Ct);

        Assert.Equal(["MAX_POOL_SIZE", "pool_size"], underscore.Results.Select(r => r.Id.Key));
        Assert.Equal(["pool%size"], percent.Results.Select(r => r.Id.Key));
        Assert.Equal(["pool%size", "pool_size", "poolXsize"], both.Results.Select(r => r.Id.Key));
    }

    [Theory]
    [InlineData(SearchQuery.DefaultMaxIndexedCandidates)]
    [InlineData(3)]
    [InlineData(0)]
    public virtual async Task Search_ByText_FindsEveryLiveKeyThatHoldsIt_InOrder_AcrossPages_HoweverManyCandidatesAnIndexMayRead(int maxIndexedCandidates)
    {
        // A text no other test writes, so that the candidates a substring index holds are this test's keys alone: up to
        // three of them are read from the index where the backend keeps one, and more are walked in search order.
        var needle = "n" + Guid.NewGuid().ToString("N")[..10];
        var service = Service();
        var a = service + "-a";
        var b = service + "-b";
        var hidden = service + "-hidden";
        List<(string, string, string)> expected = [];
        for (var i = 0; i < 9; i++)
        {
            var id = new ConfigId(i % 2 == 0 ? a : b, i % 3 == 0 ? "prod" : "dev", $"k{i}.{(i % 2 == 0 ? needle : needle.ToUpperInvariant())}.v");
            await PutAsync(id, "1");
            expected.Add((id.ServiceName, id.Environment, id.Key));
        }

        await PutAsync(new ConfigId(a, "dev", "almost." + needle[..^1]), "1");
        await PutAsync(new ConfigId(hidden, "dev", needle), "1");
        await PutAsync(FlagStorage.Id(a, "dev", needle), """{"state": "ENABLED"}""");
        var deleted = new ConfigId(a, "dev", "gone." + needle);
        await PutAsync(deleted, "1");
        await Store.DeleteAsync(Delete(deleted), Ct);

        List<(string, string, string)> found = [];
        SearchPosition? after = null;
        var pages = 0;
        do
        {
            var page = await Store.SearchAsync(
                new SearchQuery
                {
                    Text = needle[1..].ToUpperInvariant(),
                    Scopes = Scopes($"{a}/*", $"{b}/*"),
                    Limit = 4,
                    After = after,
                    MaxIndexedCandidates = maxIndexedCandidates,
                },
                Ct);
            found.AddRange(page.Results.Select(r => (r.Id.ServiceName, r.Id.Environment, r.Id.Key)));
            Assert.False(page.BudgetReached);
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 10);

        Assert.Equal(
            [.. expected.OrderBy(e => ConfigSearch.Fold(e.Item3), StringComparer.Ordinal).ThenBy(e => e.Item1, StringComparer.Ordinal)],
            found);
        Assert.Equal(3, pages);
    }

    [Fact]
    public virtual async Task Search_ByARareText_ReadsTheSubstringIndex_SoItsFewMatchesAmongManyKeysNeedNoScanBudget()
    {
        var needle = "n" + Guid.NewGuid().ToString("N")[..10];
        var service = Service();
        await Store.ApplyChangeSetAsync(
            ChangeSet(service, [.. Enumerable.Range(0, 200).Select(i => $"filler.{i:D3}").Append($"zz.{needle}.1").Append($"zz.{needle}.2")
                .Select(k => new ChangeSetItem { Key = k, Value = "v", ValueType = ConfigValueType.String })]),
            Ct);
        var query = new SearchQuery { Text = needle.ToUpperInvariant(), ServiceName = service, Limit = 10, MaxScannedKeys = 50 };

        var indexed = await Store.SearchAsync(query, Ct);
        var walked = await Store.SearchAsync(query with { MaxIndexedCandidates = 0 }, Ct);

        Assert.Equal([$"zz.{needle}.1", $"zz.{needle}.2"], indexed.Results.Select(r => r.Id.Key));
        Assert.False(indexed.BudgetReached);
        Assert.Null(indexed.Next);

        // The walk in key order meets the 200 fillers first, and stops at the budget without a result.
        Assert.Empty(walked.Results);
        Assert.True(walked.BudgetReached);
    }

    [Theory]
    [InlineData("*b*", "a*b*c")]
    [InlineData("?b?", "a?b?c")]
    [InlineData("[ab]", "x[ab]y")]
    [InlineData("b]y", "x[ab]y")]
    [InlineData("%q%", "p%q%r")]
    [InlineData("_v_", "u_v_w")]
    [InlineData("k\\s", "back\\slash")]
    [InlineData("\\", "back\\slash")]
    [InlineData("RÖSS", "straße.grösse")]
    [InlineData("ße.", "straße.grösse")]
    [InlineData("\U0001F680\U0001F680x", "go.\U0001F680\U0001F680x")]
    public virtual async Task Search_ByText_TakesEveryCharacterLiterally_WhetherOrNotAnIndexCanNarrowIt(string text, string key)
    {
        var service = Service();
        foreach (var other in new[] { "a*b*c", "a?b?c", "axbxc", "x[ab]y", "xay", "p%q%r", "pxqxr", "u_v_w", "uxvxw", "back\\slash", "straße.grösse", "go.\U0001F680\U0001F680x" })
        {
            await PutAsync(new ConfigId(service, "dev", other), "1");
        }

        var page = await Store.SearchAsync(new SearchQuery { Text = text, ServiceName = service, Limit = 10 }, Ct);

        Assert.Equal([key], page.Results.Select(r => r.Id.Key));
    }

    [Fact]
    public virtual async Task Search_Filters_ByServiceEnvironmentAndType_AndReportsEachKeysVersion()
    {
        var service = Service();
        var other = service + "-other";
        await PutAsync(new ConfigId(service, "dev", "timeout"), "a");
        await Store.SetAsync(Set(new ConfigId(service, "dev", "timeout"), "30", ConfigValueType.Number), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "prod", "timeout"), "60", ConfigValueType.Number), Ct);
        await PutAsync(new ConfigId(service, "dev", "timeout.unit"), "s");
        await Store.SetAsync(Set(new ConfigId(other, "dev", "timeout"), "10", ConfigValueType.Number), Ct);

        var numbers = await Store.SearchAsync(
            new SearchQuery { Prefix = "timeout", ServiceName = service, ValueType = ConfigValueType.Number, Limit = 10 }, Ct);
        var dev = await Store.SearchAsync(new SearchQuery { Prefix = "timeout", ServiceName = service, Environment = "dev", Limit = 10 }, Ct);

        Assert.Equal(
            [("dev", "timeout", 2L, ConfigValueType.Number), ("prod", "timeout", 1L, ConfigValueType.Number)],
            numbers.Results.Select(r => (r.Id.Environment, r.Id.Key, r.Version, r.ValueType)));
        Assert.All(numbers.Results, r => Assert.False(r.IsEncrypted));
        Assert.Equal((await Store.GetAsync(new ConfigId(service, "prod", "timeout"), Ct))!.UpdatedAt, numbers.Results[1].UpdatedAt);
        Assert.Equal(["timeout", "timeout.unit"], dev.Results.Select(r => r.Id.Key));
    }

    [Fact]
    public virtual async Task Search_LeavesOutDeletedKeys_AndFindsThemAgainOnceRewritten()
    {
        var service = Service();
        var id = new ConfigId(service, "dev", "feature.limit");
        await PutAsync(id, "1");
        await Store.DeleteAsync(Delete(id), Ct);
        var query = new SearchQuery { Prefix = "feature", ServiceName = service, Limit = 10 };

        var afterDelete = await Store.SearchAsync(query, Ct);
        await PutAsync(id, "2");
        var afterRewrite = await Store.SearchAsync(query, Ct);

        Assert.Empty(afterDelete.Results);
        // The delete took version 2, so the rewrite is version 3.
        Assert.Equal(3, Assert.Single(afterRewrite.Results).Version);
    }

    [Fact]
    public virtual async Task Search_WithScopes_SeesOnlyTheServicesAndEnvironmentsTheyCover()
    {
        var service = Service();
        var a = service + "-a";
        var b = service + "-b";
        foreach (var (s, e) in new[] { (a, "dev"), (a, "prod"), (b, "dev"), (b, "prod") })
        {
            await PutAsync(new ConfigId(s, e, "shared.key"), "1");
        }

        async Task<IEnumerable<(string, string)>> FindAsync(IReadOnlyList<ScopePattern> scopes) =>
            (await Store.SearchAsync(new SearchQuery { Prefix = "shared.", Scopes = scopes, Limit = 10 }, Ct))
            .Results.Select(r => (r.Id.ServiceName, r.Id.Environment));

        Assert.Equal([(a, "dev")], await FindAsync(Scopes($"{a}/dev")));
        Assert.Equal([(a, "prod"), (b, "prod")], await FindAsync(Scopes($"{service}-*/prod")));
        Assert.Equal([(a, "dev"), (a, "prod"), (b, "prod")], await FindAsync(Scopes($"{a}/*", $"{b}/prod")));
        Assert.Empty(await FindAsync([]));
    }

    [Fact]
    public virtual async Task Search_Paging_NeverRepeatsOrSkipsAKey_WhileOthersAreWrittenAndDeleted()
    {
        var service = Service();
        var stable = Enumerable.Range(0, 40).Select(i => $"k{i:D3}").ToList();
        foreach (var key in stable)
        {
            await PutAsync(new ConfigId(service, "dev", key), "v");
        }

        var seen = new List<string>();
        SearchPosition? after = null;
        var pages = 0;
        do
        {
            var page = await Store.SearchAsync(new SearchQuery { Prefix = "K", ServiceName = service, Limit = 7, After = after }, Ct);
            seen.AddRange(page.Results.Select(r => r.Id.Key));
            after = page.Next;
            pages++;

            // Between pages, keys appear before and after the position, and a key already read is updated: none of it may
            // make the reader see a key twice.
            await PutAsync(new ConfigId(service, "dev", $"k{pages:D3}a"), "new");
            await PutAsync(new ConfigId(service, "dev", $"k{pages * 9:D3}b"), "new");
            await PutAsync(new ConfigId(service, "dev", stable[0]), "updated");
        }
        while (after is not null && pages < 100);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(stable.Except(seen));
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.InRange(pages, 6, 20);
    }

    [Fact]
    public virtual async Task ListService_ReadsLiveKeysUnderAPrefix_InEveryEnvironment_OrderedByEnvironmentAndKey()
    {
        var service = Service();
        await Store.SetAsync(Set(new ConfigId(service, "prod", "db.port"), "5432", ConfigValueType.Number), Ct);
        await PutAsync(new ConfigId(service, "dev", "db.user"), "u");
        await PutAsync(new ConfigId(service, "dev", "db.host"), "h");
        await PutAsync(new ConfigId(service, "dev", "dbx"), "x");
        await PutAsync(new ConfigId(service, "dev", "db.gone"), "g");
        await Store.DeleteAsync(Delete(new ConfigId(service, "dev", "db.gone")), Ct);
        await PutAsync(new ConfigId(service + "-other", "dev", "db.host"), "other");

        var prefixed = await Store.ListServiceAsync(service, "db.", Ct);
        var all = await Store.ListServiceAsync(service, "", Ct);

        Assert.Equal(
            [("dev", "db.host", "h"), ("dev", "db.user", "u"), ("prod", "db.port", "5432")],
            prefixed.Select(e => (e.Id.Environment, e.Id.Key, e.Value)));
        Assert.Equal(ConfigValueType.Number, prefixed[2].ValueType);
        Assert.Equal(["db.host", "db.user", "dbx", "db.port"], all.Select(e => e.Id.Key));
        Assert.Empty(await Store.ListServiceAsync(service + "-none", "", Ct));
    }

    [Fact]
    public virtual async Task FlagsStoredBesideConfiguration_AreNeitherSearchedNorListedWithIt()
    {
        var service = Service();
        await PutAsync(new ConfigId(service, "dev", "beta"), "config");
        await PutAsync(FlagStorage.Id(service, "dev", "beta"), """{"state": "ENABLED"}""");

        var found = await Store.SearchAsync(new SearchQuery { Prefix = "beta", ServiceName = service, Limit = 10 }, Ct);
        var listed = await Store.ListServiceAsync(service, "", Ct);
        var environment = await Store.ListAsync(service, "dev", Ct);
        var flags = await Store.ListAsync(service, FlagStorage.Environment("dev"), Ct);

        Assert.Equal("dev", Assert.Single(found.Results).Id.Environment);
        Assert.Equal("config", Assert.Single(listed).Value);
        Assert.Equal("config", Assert.Single(environment.Entries).Value);
        Assert.Equal("beta", Assert.Single(flags.Entries).Id.Key);
    }

    static IReadOnlyList<ScopePattern> Scopes(params string[] patterns) => [.. patterns.Select(ScopePattern.Parse)];
}
