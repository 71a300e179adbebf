// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>Group commit as every backend keeps it: concurrent changes share transactions, and each is still its own change.</summary>
public abstract class GroupCommitSpecification<TFixture>(TFixture fixture) : StoreSpecification<TFixture>(fixture)
    where TFixture : class, IConfigStoreFixture
{
    const int Writers = 64;

    [Fact]
    public async Task ConcurrentChanges_ShareTransactions_EachKeepingItsOwnRevisionAndVersion()
    {
        var service = Service();
        await Store.SetAsync(Set(service, "shared", "0"), Ct);
        var before = Fixture.CommittedTransactions;

        // Half write keys of their own, some encrypted, and half the same key: versions of one key must still follow each other
        // one by one.
        var changes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(i => Task.Run(
            () => Store.SetAsync(i % 2 == 0 ? Set(service, $"own-{i}", $"v{i}") with { Encrypt = i % 4 == 0 } : Set(service, "shared", $"v{i}"), Ct), Ct)));

        var transactions = Fixture.CommittedTransactions - before;
        Assert.True(transactions < Writers / 2, $"{Writers} concurrent changes took {transactions} transactions");
        Assert.Equal(Writers, changes.Select(c => c.Revision).Distinct().Count());
        Assert.Equal(Writers / 4, changes.Count(c => c.Entry!.IsEncrypted));
        Assert.Equal(Enumerable.Range(2, Writers / 2).Select(v => (long)v), changes.Where(c => c.Id.Key == "shared").Select(c => c.Version).Order());
        for (var i = 0; i < Writers; i++)
        {
            var history = await Store.GetHistoryAsync(changes[i].Id, 100, null, Ct);
            Assert.Contains(history!, v => v.Version == changes[i].Version && v.Value == $"v{i}");
        }

        // The change feed holds each change once, in revision order, under the revision its writer was given.
        var feed = await Fixture.Store.Changes.ReadChangesAsync(
            new ChangeFeedQuery { AfterRevision = changes.Min(c => c.Revision) - 1, ServiceName = service, Limit = Writers * 2 }, Ct);
        Assert.Equal(changes.Select(c => c.Revision).Order(), feed.Changes.Select(e => e.Revision));
    }

    [Fact]
    public async Task AChangeThatFails_FailsAlone_AndTheOthersInItsTransactionCommit()
    {
        var service = Service();
        var before = Fixture.CommittedTransactions;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            // Every third asks for a version of a key that does not exist, and is refused.
            var request = i % 3 == 0 ? Set(service, $"key-{i}", "refused", VersionCondition.IsVersion(7)) : Set(service, $"key-{i}", "kept");
            try
            {
                await Store.SetAsync(request, Ct);
                return (i, Error: (KeelError?)null);
            }
            catch (KeelException e)
            {
                return (i, Error: (KeelError?)e.Error);
            }
        }, Ct)));

        var transactions = Fixture.CommittedTransactions - before;
        Assert.True(transactions < Writers / 2, $"{Writers} concurrent changes took {transactions} transactions");
        foreach (var (i, error) in outcomes)
        {
            var entry = await Store.GetAsync(new ConfigId(service, "prod", $"key-{i}"), Ct);
            if (i % 3 == 0)
            {
                Assert.Equal(KeelError.PreconditionFailed, error);
                Assert.Null(entry);
                Assert.Null(await Store.GetHistoryAsync(new ConfigId(service, "prod", $"key-{i}"), 10, null, Ct));
            }
            else
            {
                Assert.Null(error);
                Assert.Equal("kept", entry?.Value);
            }
        }
    }

    [Fact]
    public async Task AChangeWhoseCallerGaveUpBeforeItsTurn_NeverRuns()
    {
        var service = Service();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.SetAsync(Set(service, "never", "v"), cancelled.Token));

        Assert.Null(await Store.GetAsync(new ConfigId(service, "prod", "never"), Ct));
    }

    [Fact]
    public async Task TwoNodesGroupingChangesToTheSameKeys_NeitherWaitsForTheOtherForever()
    {
        // Each node's transactions hold several changes at once, to keys the other node's changes also want, in another order:
        // a transaction that held one key while it waited for the revision the other holds would deadlock.
        const int KeysCount = 4, PerWriter = 4;
        var service = Service();
        var other = await Fixture.OpenAnotherAsync();
        IConfigStore[] nodes = [Store, other.Configs];
        var changes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var node = nodes[w % 2];
            var made = new List<ConfigChange>();
            for (var n = 0; n < PerWriter; n++)
            {
                var key = w % 2 == 0 ? (w + n) % KeysCount : KeysCount - 1 - ((w + n) % KeysCount);
                made.Add(await node.SetAsync(Set(service, $"key-{key}", $"w{w}-{n}"), Ct));
            }

            return made;
        }, Ct)));

        var all = changes.SelectMany(c => c).ToList();
        Assert.Equal(Writers * PerWriter, all.Select(c => c.Revision).Distinct().Count());
        foreach (var key in all.GroupBy(c => c.Id.Key))
        {
            Assert.Equal(Enumerable.Range(1, key.Count()).Select(v => (long)v), key.Select(c => c.Version).Order());
        }
    }

    static SetConfigRequest Set(string service, string key, string value, VersionCondition condition = default) => new()
    {
        Id = new ConfigId(service, "prod", key),
        Value = value,
        ValueType = ConfigValueType.String,
        Actor = TestIdentities.Tester,
        Condition = condition,
    };
}
