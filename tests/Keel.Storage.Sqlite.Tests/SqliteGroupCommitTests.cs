// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Storage.Specification.Tests;

namespace Keel.Storage.Sqlite.Tests;

/// <summary>Group commit: concurrent changes share transactions and fsyncs, and each is still its own change.</summary>
public sealed class SqliteGroupCommitTests : IAsyncLifetime
{
    const int Writers = 64;

    readonly SqliteStoreFixture _fixture = new();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    SqliteStore Store => _fixture.Current;

    public ValueTask InitializeAsync() => _fixture.InitializeAsync();

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task ConcurrentChanges_ShareTransactions_EachKeepingItsOwnRevisionAndVersion()
    {
        await Store.Configs.SetAsync(Set("shared", "0"), Ct);
        var before = Store.CommittedTransactions;

        // Half write keys of their own, half the same key: versions of one key must still follow each other one by one.
        var changes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(i => Task.Run(
            () => Store.Configs.SetAsync(i % 2 == 0 ? Set($"own-{i}", $"v{i}") : Set("shared", $"v{i}"), Ct), Ct)));

        var transactions = Store.CommittedTransactions - before;
        Assert.True(transactions < Writers / 2, $"{Writers} concurrent changes took {transactions} transactions");
        Assert.Equal(Writers, changes.Select(c => c.Revision).Distinct().Count());
        Assert.Equal(Enumerable.Range(2, Writers / 2).Select(v => (long)v), changes.Where(c => c.Id.Key == "shared").Select(c => c.Version).Order());
        foreach (var change in changes)
        {
            var history = await Store.Configs.GetHistoryAsync(change.Id, 100, null, Ct);
            Assert.Contains(history!, v => v.Version == change.Version && v.Value == $"v{changes.ToList().IndexOf(change)}");
        }

        // The change feed holds each change once, in revision order, under the revision its writer was given.
        var feed = await Store.Changes.ReadChangesAsync(
            new ChangeFeedQuery { AfterRevision = changes.Min(c => c.Revision) - 1, ServiceName = "group", Limit = Writers * 2 }, Ct);
        Assert.Equal(changes.Select(c => c.Revision).Order(), feed.Changes.Select(e => e.Revision));
    }

    [Fact]
    public async Task AChangeThatFails_FailsAlone_AndTheOthersInItsTransactionCommit()
    {
        var before = Store.CommittedTransactions;
        var attempts = Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            // Every third asks for a version of a key that does not exist, and is refused.
            var request = i % 3 == 0 ? Set($"key-{i}", "refused", VersionCondition.IsVersion(7)) : Set($"key-{i}", "kept");
            try
            {
                await Store.Configs.SetAsync(request, Ct);
                return (i, Error: (KeelError?)null);
            }
            catch (KeelException e)
            {
                return (i, Error: (KeelError?)e.Error);
            }
        }, Ct)).ToList();
        var outcomes = await Task.WhenAll(attempts);

        Assert.True(Store.CommittedTransactions - before < Writers / 2, $"{Writers} concurrent changes took {Store.CommittedTransactions - before} transactions");
        foreach (var (i, error) in outcomes)
        {
            var entry = await Store.Configs.GetAsync(Id($"key-{i}"), Ct);
            if (i % 3 == 0)
            {
                Assert.Equal(KeelError.PreconditionFailed, error);
                Assert.Null(entry);
                Assert.Null(await Store.Configs.GetHistoryAsync(Id($"key-{i}"), 10, null, Ct));
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
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.Configs.SetAsync(Set("never", "v"), cancelled.Token));

        Assert.Null(await Store.Configs.GetAsync(Id("never"), Ct));
    }

    static ConfigId Id(string key) => new("group", "prod", key);

    static SetConfigRequest Set(string key, string value, VersionCondition condition = default) => new()
    {
        Id = Id(key),
        Value = value,
        ValueType = ConfigValueType.String,
        Actor = TestIdentities.Tester,
        Condition = condition,
    };
}
