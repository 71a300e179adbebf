// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// The change feed as every backend must keep it: every committed change once, in revision order, whole revisions per page,
/// and compaction that tells readers from before it to re-read. The fixture's store implements <see cref="IChangeFeedStore"/>.
/// </summary>
public abstract class ChangeFeedSpecification<TFixture>(TFixture fixture) : StoreSpecification<TFixture>(fixture)
    where TFixture : class, IConfigStoreFixture
{
    protected IChangeFeedStore Feed => Fixture.Store.Changes;

    [Fact]
    public virtual async Task Read_ReportsEveryKindOfChange_OnceAndInOrder()
    {
        var id = Id();
        var start = await GetRevisionAsync();
        var created = await PutAsync(id, "one");
        var updated = await PutAsync(id, "two");
        var rolledBack = await Store.RollbackAsync(new RollbackConfigRequest { Id = id, TargetVersion = 1, Actor = TestIdentities.Tester }, Ct);
        var deleted = await Store.DeleteAsync(new DeleteConfigRequest { Id = id, Actor = TestIdentities.Tester }, Ct);

        var page = await Feed.ReadChangesAsync(Query(start, id.ServiceName), Ct);

        Assert.Equal(ChangeFeedStatus.Ok, page.Status);
        Assert.Equal(
            [
                new ChangeEvent(created.Revision, id, 1, ChangeType.Create, created.Timestamp),
                new ChangeEvent(updated.Revision, id, 2, ChangeType.Update, updated.Timestamp),
                new ChangeEvent(rolledBack.Revision, id, 3, ChangeType.Rollback, rolledBack.Timestamp),
                new ChangeEvent(deleted.Revision, id, 4, ChangeType.Delete, deleted.Timestamp),
            ],
            page.Changes);
        Assert.Equal(deleted.Revision, page.Through);
        Assert.Equal(deleted.Revision, page.CurrentRevision);
    }

    [Fact]
    public virtual async Task Read_FiltersByServiceAndEnvironment()
    {
        var service = Service();
        var start = await GetRevisionAsync();
        await PutAsync(new ConfigId(service, "dev", "a"), "1");
        var prod = await PutAsync(new ConfigId(service, "prod", "a"), "1");
        var other = await PutAsync(new ConfigId(service + "-other", "prod", "a"), "1");

        var byService = await Feed.ReadChangesAsync(Query(start, service), Ct);
        var byBoth = await Feed.ReadChangesAsync(Query(start, service) with { Environment = "prod" }, Ct);
        var byEnvironment = await Feed.ReadChangesAsync(Query(start) with { Environment = "prod" }, Ct);
        var all = await Feed.ReadChangesAsync(Query(start), Ct);

        Assert.Equal(2, byService.Changes.Count);
        Assert.Equal([prod.Revision], byBoth.Changes.Select(c => c.Revision));
        Assert.Equal([prod.Revision, other.Revision], byEnvironment.Changes.Select(c => c.Revision));
        Assert.Equal(3, all.Changes.Count);
        Assert.All([byService, byBoth, byEnvironment, all], page => Assert.Equal(other.Revision, page.Through));
    }

    [Fact]
    public virtual async Task Read_PagesByLimit_WithoutLosingOrRepeatingAChange()
    {
        var service = Service();
        var start = await GetRevisionAsync();
        List<long> written = [];
        for (var i = 0; i < 7; i++)
        {
            written.Add((await PutAsync(new ConfigId(service, "dev", $"k{i}"), "v")).Revision);
        }

        List<long> read = [];
        var after = start;
        var pages = 0;
        while (after < written[^1])
        {
            var page = await Feed.ReadChangesAsync(Query(after, service) with { Limit = 3 }, Ct);
            Assert.InRange(page.Changes.Count, 1, 3);
            read.AddRange(page.Changes.Select(c => c.Revision));
            Assert.Equal(page.Changes[^1].Revision, page.Through);
            after = page.Through;
            pages++;
        }

        Assert.Equal(written, read);
        Assert.Equal(3, pages);
    }

    [Fact]
    public virtual async Task Read_AtTheCurrentRevision_IsEmptyAndCurrent()
    {
        await PutAsync(Id(), "v");
        var current = await GetRevisionAsync();

        var page = await Feed.ReadChangesAsync(Query(current), Ct);

        Assert.Equal(ChangeFeedStatus.Ok, page.Status);
        Assert.Empty(page.Changes);
        Assert.Equal(current, page.Through);
    }

    [Fact]
    public virtual async Task Read_AfterTheCurrentRevision_IsAhead()
    {
        await PutAsync(Id(), "v");
        var current = await GetRevisionAsync();

        var page = await Feed.ReadChangesAsync(Query(current + 1), Ct);

        Assert.Equal(ChangeFeedStatus.Ahead, page.Status);
        Assert.Empty(page.Changes);
        Assert.Equal(current, page.CurrentRevision);
    }

    [Fact]
    public virtual async Task Compact_ByRevisions_KeepsTheLastOnes_AndReportsEarlierReadersAsCompacted()
    {
        var service = Service();
        var start = await GetRevisionAsync();
        List<long> written = [];
        for (var i = 0; i < 5; i++)
        {
            written.Add((await PutAsync(new ConfigId(service, "dev", $"k{i}"), "v")).Revision);
        }

        var compacted = await Feed.CompactChangesAsync(new ChangeRetention(2, TimeSpan.FromDays(7)), Ct);

        Assert.Equal(written[2], compacted);
        var early = await Feed.ReadChangesAsync(Query(start, service), Ct);
        Assert.Equal(ChangeFeedStatus.Compacted, early.Status);
        Assert.Empty(early.Changes);
        Assert.Equal(compacted, early.CompactedRevision);
        var late = await Feed.ReadChangesAsync(Query(compacted, service), Ct);
        Assert.Equal(ChangeFeedStatus.Ok, late.Status);
        Assert.Equal(written[3..], late.Changes.Select(c => c.Revision));
    }

    [Fact]
    public virtual async Task Compact_ByAge_RemovesOlderChanges()
    {
        var service = Service();
        var old = await PutAsync(new ConfigId(service, "dev", "old"), "v");
        Fixture.Time.Advance(TimeSpan.FromHours(2));
        var recent = await PutAsync(new ConfigId(service, "dev", "recent"), "v");

        var compacted = await Feed.CompactChangesAsync(new ChangeRetention(1_000_000, TimeSpan.FromHours(1)), Ct);

        Assert.Equal(old.Revision, compacted);
        var page = await Feed.ReadChangesAsync(Query(compacted, service), Ct);
        Assert.Equal([recent.Revision], page.Changes.Select(c => c.Revision));
        Assert.Equal(ChangeFeedStatus.Compacted, (await Feed.ReadChangesAsync(Query(old.Revision - 1, service), Ct)).Status);
    }

    [Fact]
    public virtual async Task Compact_WhenNothingIsOutsideTheRetention_ChangesNothing()
    {
        var id = Id();
        var start = await GetRevisionAsync();
        await PutAsync(id, "v");
        var before = (await Feed.ReadChangesAsync(Query(start, id.ServiceName), Ct)).CompactedRevision;

        var compacted = await Feed.CompactChangesAsync(new ChangeRetention(1_000_000, TimeSpan.FromDays(365)), Ct);

        Assert.Equal(before, compacted);
        Assert.Single((await Feed.ReadChangesAsync(Query(start, id.ServiceName), Ct)).Changes);
    }

    [Fact]
    public virtual async Task ConcurrentWriters_EachChangeAppearsOnce_WithContiguousRevisions()
    {
        var service = Service();
        var start = await GetRevisionAsync();
        const int writers = 4, writesEach = 25;

        // Task.Run: a backend whose I/O completes synchronously would otherwise run the writers one after another.
        var changes = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            List<(ConfigId Id, long Version, long Revision)> mine = [];
            for (var i = 0; i < writesEach; i++)
            {
                var change = await PutAsync(new ConfigId(service, "dev", $"w{w}"), $"{i}");
                mine.Add((change.Id, change.Version, change.Revision));
            }

            return mine;
        })));

        List<ChangeEvent> read = [];
        var after = start;
        while (true)
        {
            var page = await Feed.ReadChangesAsync(Query(after, service) with { Limit = 16 }, Ct);
            read.AddRange(page.Changes);
            if (page.Through == page.CurrentRevision)
            {
                break;
            }

            after = page.Through;
        }

        Assert.Equal(writers * writesEach, read.Count);
        Assert.Equal(Enumerable.Range(0, writers * writesEach).Select(i => start + 1 + i), read.Select(c => c.Revision));
        Assert.Equal(
            changes.SelectMany(c => c).OrderBy(c => c.Revision).ToList(),
            read.Select(c => (c.Id, c.Version, c.Revision)).ToList());
    }

    [Fact]
    public virtual async Task WritersOnSeveralStores_AReaderFollowingTheFeedMeanwhile_NeverSkipsARevision()
    {
        // A reader that has read through revision N must never later find a change at or below N: with several stores (nodes)
        // committing at once, that holds only if revisions become visible in order.
        var service = Service();
        var start = await GetRevisionAsync();
        IKeelStore[] others = [await Fixture.OpenAnotherAsync(), await Fixture.OpenAnotherAsync()];
        List<IConfigStore> stores = [Store, .. others.Select(o => o.Configs)];
        try
        {
            const int writesEach = 30;
            using var done = new CancellationTokenSource();
            var reader = Task.Run(async () =>
            {
                List<ChangeEvent> read = [];
                var after = start;
                while (true)
                {
                    var finished = done.IsCancellationRequested;
                    var page = await Feed.ReadChangesAsync(Query(after, service) with { Limit = 7 }, Ct);
                    read.AddRange(page.Changes);
                    after = page.Through;
                    if (finished && page.Through == page.CurrentRevision)
                    {
                        return read;
                    }
                }
            }, Ct);

            var written = await Task.WhenAll(stores.Select((store, s) => Task.Run(async () =>
            {
                List<long> mine = [];
                for (var i = 0; i < writesEach; i++)
                {
                    var change = await store.SetAsync(
                        new SetConfigRequest
                        {
                            Id = new ConfigId(service, "dev", $"s{s}"),
                            Value = $"{i}",
                            ValueType = ConfigValueType.String,
                            Actor = TestIdentities.Tester,
                        },
                        Ct);
                    mine.Add(change.Revision);
                }

                return mine;
            }, Ct)));
            await done.CancelAsync();

            var seen = (await reader).Select(c => c.Revision).ToList();
            Assert.Equal(written.SelectMany(w => w).Order(), seen);
            Assert.Equal(Enumerable.Range(0, stores.Count * writesEach).Select(i => start + 1 + i), seen);
        }
        finally
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Fact]
    public virtual async Task Committed_IsRaisedWithEachChangesRevision()
    {
        List<long> raised = [];
        void OnCommitted(long revision)
        {
            lock (raised)
            {
                raised.Add(revision);
            }
        }

        Feed.Committed += OnCommitted;
        try
        {
            var first = await PutAsync(Id(), "1");
            var second = await PutAsync(Id(), "2");

            lock (raised)
            {
                Assert.Contains(first.Revision, raised);
                Assert.Contains(second.Revision, raised);
            }
        }
        finally
        {
            Feed.Committed -= OnCommitted;
        }
    }

    [Fact]
    public virtual async Task Feed_SurvivesARestart()
    {
        var id = Id();
        var start = await GetRevisionAsync();
        var change = await PutAsync(id, "v");

        await Fixture.ReopenAsync();

        var page = await Feed.ReadChangesAsync(Query(start, id.ServiceName), Ct);
        Assert.Equal([change.Revision], page.Changes.Select(c => c.Revision));
    }

    [Fact]
    public virtual async Task Read_ReportsAChangeSetAsOneRevision_InItemOrder_NeverSplitByAPage()
    {
        var service = Service();
        var start = await GetRevisionAsync();
        await PutAsync(new ConfigId(service, "dev", "z"), "1");
        var set = await Store.ApplyChangeSetAsync(
            new ChangeSetRequest
            {
                ServiceName = service,
                Environment = "dev",
                Actor = TestIdentities.Tester,
                Items = [ChangeSetItem.Set("z", "2"), ChangeSetItem.Set("b", "1"), ChangeSetItem.Set("a", "1"), ChangeSetItem.Set("c", "1")],
            },
            Ct);
        var after = await PutAsync(new ConfigId(service, "dev", "y"), "1");

        var first = await Feed.ReadChangesAsync(Query(start, service) with { Limit = 2 }, Ct);
        var second = await Feed.ReadChangesAsync(Query(first.Through, service) with { Limit = 2 }, Ct);
        var third = await Feed.ReadChangesAsync(Query(second.Through, service) with { Limit = 2 }, Ct);

        Assert.Equal(["z"], first.Changes.Select(c => c.Id.Key));
        Assert.Equal(["z", "b", "a", "c"], second.Changes.Select(c => c.Id.Key));
        Assert.All(second.Changes, c => Assert.Equal(set.Revision, c.Revision));
        Assert.Equal(set.Revision, second.Through);
        Assert.Equal([after.Revision], third.Changes.Select(c => c.Revision));
    }

    static ChangeFeedQuery Query(long after, string? service = null) =>
        new() { AfterRevision = after, ServiceName = service, Limit = 1000 };
}
