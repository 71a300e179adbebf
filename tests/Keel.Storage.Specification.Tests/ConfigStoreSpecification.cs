// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// The behaviour every <see cref="IConfigStore"/> must have. A backend runs it by subclassing with its fixture.
/// </summary>
public abstract partial class ConfigStoreSpecification<TFixture>(TFixture fixture) : StoreSpecification<TFixture>(fixture)
    where TFixture : class, IConfigStoreFixture
{
    [Fact]
    public virtual async Task Get_ReturnsNull_WhenKeyNeverWritten()
    {
        Assert.Null(await Store.GetAsync(Id(), Ct));
    }

    [Fact]
    public virtual async Task Set_CreatesVersionOne_WhenKeyIsNew()
    {
        var id = Id();
        var before = await GetRevisionAsync();

        var change = await Store.SetAsync(Set(id, "8080", ConfigValueType.Number, "first"), Ct);

        Assert.Equal(ChangeType.Create, change.ChangeType);
        Assert.Equal(1, change.Version);
        Assert.Null(change.PreviousVersion);
        Assert.True(change.Revision > before);
        var entry = Assert.IsType<ConfigEntry>(await Store.GetAsync(id, Ct));
        Assert.Equal(id, entry.Id);
        Assert.Equal("8080", entry.Value);
        Assert.Equal(ConfigValueType.Number, entry.ValueType);
        Assert.Equal(1, entry.Version);
        Assert.False(entry.IsEncrypted);
        Assert.Equal("tester", entry.UpdatedBy);
        Assert.Equal(change.Revision, entry.Revision);
        Assert.Equal(entry.CreatedAt, entry.UpdatedAt);
    }

    [Fact]
    public virtual async Task Set_ReturnsTheEntryAsStored()
    {
        var id = Id();
        var change = await Store.SetAsync(Set(id, "v"), Ct);

        var stored = await Store.GetAsync(id, Ct);

        Assert.NotNull(change.Entry);
        Assert.NotNull(stored);
        Assert.Equivalent(stored, change.Entry, strict: true);
    }

    [Fact]
    public virtual async Task Set_IncrementsVersionAndKeepsCreatedAt_WhenKeyIsLive()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        var created = (await Store.GetAsync(id, Ct))!.CreatedAt;
        Fixture.Time.Advance(TimeSpan.FromMinutes(5));

        var change = await Store.SetAsync(Set(id, "b"), Ct);

        Assert.Equal(ChangeType.Update, change.ChangeType);
        Assert.Equal(2, change.Version);
        Assert.Equal(1, change.PreviousVersion);
        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal("b", entry.Value);
        Assert.Equal(created, entry.CreatedAt);
        Assert.Equal(created + TimeSpan.FromMinutes(5), entry.UpdatedAt);
    }

    [Fact]
    public virtual async Task Set_StampsChangesWithTheStoreClock_ToTheMicrosecond()
    {
        var id = Id();
        Fixture.Time.Advance(TimeSpan.FromTicks(12_345_678));
        var expected = Fixture.Time.GetUtcNow();
        expected = expected.AddTicks(-(expected.Ticks % 10));

        var change = await Store.SetAsync(Set(id, "a"), Ct);

        Assert.Equal(expected, change.Timestamp);
        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal(expected, entry.UpdatedAt);
        Assert.Equal(TimeSpan.Zero, entry.UpdatedAt.Offset);
    }

    [Fact]
    public virtual async Task Changes_TakeIncreasingRevisions_AndTheStoreRevisionIsTheLast()
    {
        var id = Id();
        var first = await Store.SetAsync(Set(id, "a"), Ct);
        var second = await Store.SetAsync(Set(id with { Key = "other" }, "b"), Ct);
        var third = await Store.DeleteAsync(Delete(id), Ct);

        Assert.True(first.Revision < second.Revision);
        Assert.True(second.Revision < third.Revision);
        Assert.True(await GetRevisionAsync() >= third.Revision);
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain text")]
    [InlineData("multi\nline\r\nvalue\twith tabs")]
    [InlineData("ünïcödé ✓ 日本語 🚀")]
    [InlineData("'quotes\" and \\ backslashes; DROP TABLE configs; --")]
    public virtual async Task Set_RoundTripsValuesExactly(string value)
    {
        var id = Id();
        await Store.SetAsync(Set(id, value), Ct);

        Assert.Equal(value, (await Store.GetAsync(id, Ct))!.Value);
    }

    [Fact]
    public virtual async Task Set_RoundTripsAOneMebibyteValue()
    {
        var id = Id();
        var value = string.Create(1024 * 1024, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });

        await Store.SetAsync(Set(id, value), Ct);

        Assert.Equal(value, (await Store.GetAsync(id, Ct))!.Value);
    }

    [Fact]
    public virtual async Task Keys_AreCaseSensitiveAndKeepEveryPrintableCharacter()
    {
        var service = Service();
        string[] keys = ["Key", "key", "KEY", "db.pool:max%size", "ключ", "emoji-🚀", "a\\b", "?#&="];
        foreach (var key in keys)
        {
            await Store.SetAsync(Set(new ConfigId(service, "dev", key), key + "-value"), Ct);
        }

        foreach (var key in keys)
        {
            Assert.Equal(key + "-value", (await Store.GetAsync(new ConfigId(service, "dev", key), Ct))!.Value);
        }
    }

    [Fact]
    public virtual async Task Keys_AreScopedByServiceAndEnvironment()
    {
        var service = Service();
        await Store.SetAsync(Set(new ConfigId(service, "dev", "k"), "dev-value"), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "prod", "k"), "prod-value"), Ct);
        await Store.SetAsync(Set(new ConfigId(service + "-other", "dev", "k"), "other-value"), Ct);

        Assert.Equal("dev-value", (await Store.GetAsync(new ConfigId(service, "dev", "k"), Ct))!.Value);
        Assert.Equal("prod-value", (await Store.GetAsync(new ConfigId(service, "prod", "k"), Ct))!.Value);
        Assert.Equal(1, (await Store.GetAsync(new ConfigId(service, "prod", "k"), Ct))!.Version);
    }

    [Fact]
    public virtual async Task Delete_HidesTheKeyAndRecordsATombstone()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);

        var change = await Store.DeleteAsync(Delete(id, "retired"), Ct);

        Assert.Equal(ChangeType.Delete, change.ChangeType);
        Assert.Equal(2, change.Version);
        Assert.Equal(1, change.PreviousVersion);
        Assert.Null(change.Entry);
        Assert.Null(await Store.GetAsync(id, Ct));
        var tombstone = (await Store.GetHistoryAsync(id, 10, null, Ct))![0];
        Assert.Equal(2, tombstone.Version);
        Assert.Equal(ChangeType.Delete, tombstone.ChangeType);
        Assert.True(tombstone.IsTombstone);
        Assert.Null(tombstone.Value);
        Assert.Null(tombstone.ValueType);
        Assert.Equal("retired", tombstone.ChangeDescription);
        Assert.Equal(change.Revision, tombstone.Revision);
    }

    [Fact]
    public virtual async Task Delete_ThrowsNotFound_WhenKeyNeverExisted()
    {
        var id = Id();
        var revision = await GetRevisionAsync();

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.DeleteAsync(Delete(id), Ct));

        Assert.Equal(KeelError.ConfigNotFound, e.Error);
        Assert.Equal(revision, await GetRevisionAsync());
        Assert.Null(await Store.GetHistoryAsync(id, 10, null, Ct));
    }

    [Fact]
    public virtual async Task Delete_ThrowsNotFound_WhenKeyIsAlreadyDeleted()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.DeleteAsync(Delete(id), Ct);

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.DeleteAsync(Delete(id), Ct));

        Assert.Equal(KeelError.ConfigNotFound, e.Error);
        Assert.Equal(2, (await Store.GetHistoryAsync(id, 10, null, Ct))!.Count);
    }

    [Fact]
    public virtual async Task Set_AfterDelete_ContinuesVersionsAsANewLife()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.DeleteAsync(Delete(id), Ct);
        Fixture.Time.Advance(TimeSpan.FromHours(1));
        var now = Fixture.Time.GetUtcNow();

        var change = await Store.SetAsync(Set(id, "b"), Ct);

        Assert.Equal(ChangeType.Create, change.ChangeType);
        Assert.Equal(3, change.Version);
        Assert.Equal(2, change.PreviousVersion);
        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal(3, entry.Version);
        Assert.Equal(now.AddTicks(-(now.Ticks % 10)), entry.CreatedAt);
    }

    [Fact]
    public virtual async Task Set_WithIsVersion_WritesOnlyAtThatVersion()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.SetAsync(Set(id, "b"), Ct);
        var revision = await GetRevisionAsync();

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(id, "c", condition: VersionCondition.IsVersion(1)), Ct));

        Assert.Equal(KeelError.PreconditionFailed, e.Error);
        Assert.Equal(revision, await GetRevisionAsync());
        Assert.Equal("b", (await Store.GetAsync(id, Ct))!.Value);
        var change = await Store.SetAsync(Set(id, "c", condition: VersionCondition.IsVersion(2)), Ct);
        Assert.Equal(3, change.Version);
    }

    [Fact]
    public virtual async Task Set_WithIsVersion_FailsWhenKeyIsAbsentOrDeleted()
    {
        var absent = Id();
        var deleted = Id() with { Key = "deleted" };
        await Store.SetAsync(Set(deleted, "a"), Ct);
        await Store.DeleteAsync(Delete(deleted), Ct);

        var onAbsent = await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(absent, "x", condition: VersionCondition.IsVersion(1)), Ct));
        var onTombstone = await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(deleted, "x", condition: VersionCondition.IsVersion(2)), Ct));

        Assert.Equal(KeelError.PreconditionFailed, onAbsent.Error);
        Assert.Equal(KeelError.PreconditionFailed, onTombstone.Error);
        Assert.Null(await Store.GetAsync(absent, Ct));
        Assert.Null(await Store.GetAsync(deleted, Ct));
    }

    [Fact]
    public virtual async Task Set_WithNotExists_CreatesOnlyWhenAbsentOrDeleted()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a", condition: VersionCondition.NotExists), Ct);

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(id, "b", condition: VersionCondition.NotExists), Ct));
        Assert.Equal(KeelError.PreconditionFailed, e.Error);
        Assert.Equal("a", (await Store.GetAsync(id, Ct))!.Value);

        await Store.DeleteAsync(Delete(id), Ct);
        var change = await Store.SetAsync(Set(id, "c", condition: VersionCondition.NotExists), Ct);
        Assert.Equal(3, change.Version);
    }

    [Fact]
    public virtual async Task Set_WithExists_UpdatesOnlyALiveKey()
    {
        var id = Id();
        var e = await Assert.ThrowsAsync<KeelException>(() => Store.SetAsync(Set(id, "a", condition: VersionCondition.Exists), Ct));
        Assert.Equal(KeelError.PreconditionFailed, e.Error);
        Assert.Null(await Store.GetHistoryAsync(id, 10, null, Ct));

        await Store.SetAsync(Set(id, "a"), Ct);
        var change = await Store.SetAsync(Set(id, "b", condition: VersionCondition.Exists), Ct);
        Assert.Equal(2, change.Version);
    }

    [Fact]
    public virtual async Task Delete_WithIsVersion_DeletesOnlyAtThatVersion()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.SetAsync(Set(id, "b"), Ct);

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.DeleteAsync(Delete(id, condition: VersionCondition.IsVersion(1)), Ct));

        Assert.Equal(KeelError.PreconditionFailed, e.Error);
        Assert.NotNull(await Store.GetAsync(id, Ct));
        var change = await Store.DeleteAsync(Delete(id, condition: VersionCondition.IsVersion(2)), Ct);
        Assert.Equal(3, change.Version);
    }

    [Fact]
    public virtual async Task History_ListsVersionsNewestFirst_WithEveryField()
    {
        var id = Id();
        var t0 = Fixture.Time.GetUtcNow();
        await Store.SetAsync(Set(id, "1", ConfigValueType.Number, "create it"), Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await Store.SetAsync(Set(id, "{\"a\":1}", ConfigValueType.Json), Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await Store.DeleteAsync(Delete(id), Ct);

        var history = (await Store.GetHistoryAsync(id, 10, null, Ct))!;

        Assert.Equal([3L, 2L, 1L], history.Select(v => v.Version));
        Assert.Equal([ChangeType.Delete, ChangeType.Update, ChangeType.Create], history.Select(v => v.ChangeType));
        var first = history[2];
        Assert.Equal("1", first.Value);
        Assert.Equal(ConfigValueType.Number, first.ValueType);
        Assert.Equal("create it", first.ChangeDescription);
        Assert.Equal("tester", first.CreatedBy);
        Assert.False(first.IsEncrypted);
        Assert.Equal(t0.AddTicks(-(t0.Ticks % 10)), first.CreatedAt);
        Assert.Null(history[1].ChangeDescription);
        Assert.Equal(ConfigValueType.Json, history[1].ValueType);
        Assert.True(history[0].Revision > history[1].Revision && history[1].Revision > history[2].Revision);
    }

    [Fact]
    public virtual async Task History_PagesWithLimitAndBeforeVersion()
    {
        var id = Id();
        for (var i = 1; i <= 7; i++)
        {
            await Store.SetAsync(Set(id, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Ct);
        }

        Assert.Equal([7L, 6L, 5L], (await Store.GetHistoryAsync(id, 3, null, Ct))!.Select(v => v.Version));
        Assert.Equal([4L, 3L, 2L], (await Store.GetHistoryAsync(id, 3, 5, Ct))!.Select(v => v.Version));
        Assert.Equal([1L], (await Store.GetHistoryAsync(id, 3, 2, Ct))!.Select(v => v.Version));
        Assert.Empty((await Store.GetHistoryAsync(id, 3, 1, Ct))!);
        Assert.Equal(7, (await Store.GetHistoryAsync(id, 1000, 100, Ct))!.Count);
    }

    [Fact]
    public virtual async Task History_IsNull_WhenKeyNeverExisted()
    {
        Assert.Null(await Store.GetHistoryAsync(Id(), 10, null, Ct));
    }

    [Fact]
    public virtual async Task Rollback_WritesTheTargetValueAndTypeAsANewVersion()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "42", ConfigValueType.Number), Ct);
        await Store.SetAsync(Set(id, "text"), Ct);
        Fixture.Time.Advance(TimeSpan.FromSeconds(3));

        var change = await Store.RollbackAsync(Rollback(id, 1), Ct);

        Assert.Equal(ChangeType.Rollback, change.ChangeType);
        Assert.Equal(3, change.Version);
        Assert.Equal(2, change.PreviousVersion);
        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal("42", entry.Value);
        Assert.Equal(ConfigValueType.Number, entry.ValueType);
        Assert.Equal(3, entry.Version);
        Assert.Equal(change.Timestamp, entry.UpdatedAt);
        var newest = (await Store.GetHistoryAsync(id, 1, null, Ct))![0];
        Assert.Equal(ChangeType.Rollback, newest.ChangeType);
        Assert.Equal("Rollback to version 1", newest.ChangeDescription);
        Assert.Equal("42", newest.Value);
    }

    [Fact]
    public virtual async Task Rollback_KeepsTheGivenDescription()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.SetAsync(Set(id, "b"), Ct);

        await Store.RollbackAsync(Rollback(id, 1) with { ChangeDescription = "bad deploy" }, Ct);

        Assert.Equal("bad deploy", (await Store.GetHistoryAsync(id, 1, null, Ct))![0].ChangeDescription);
    }

    [Fact]
    public virtual async Task Rollback_RevivesADeletedKey()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.DeleteAsync(Delete(id), Ct);

        var change = await Store.RollbackAsync(Rollback(id, 1), Ct);

        Assert.Equal(3, change.Version);
        Assert.Equal(2, change.PreviousVersion);
        Assert.Equal("a", (await Store.GetAsync(id, Ct))!.Value);
    }

    [Fact]
    public virtual async Task Rollback_Fails_AndChangesNothing_ForAnUnknownVersionKeyOrATombstone()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.DeleteAsync(Delete(id), Ct);
        await Store.SetAsync(Set(id, "b"), Ct);
        var revision = await GetRevisionAsync();

        var unknownVersion = await Assert.ThrowsAsync<KeelException>(() => Store.RollbackAsync(Rollback(id, 9), Ct));
        var unknownKey = await Assert.ThrowsAsync<KeelException>(() => Store.RollbackAsync(Rollback(id with { Key = "nope" }, 1), Ct));
        var tombstone = await Assert.ThrowsAsync<KeelException>(() => Store.RollbackAsync(Rollback(id, 2), Ct));

        Assert.Equal(KeelError.VersionNotFound, unknownVersion.Error);
        Assert.Equal(KeelError.ConfigNotFound, unknownKey.Error);
        Assert.Equal(KeelError.RollbackToTombstone, tombstone.Error);
        Assert.Equal(revision, await GetRevisionAsync());
        Assert.Equal(3, (await Store.GetAsync(id, Ct))!.Version);
    }

    [Fact]
    public virtual async Task Rollback_WithIsVersion_RollsBackOnlyAtThatVersion()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.SetAsync(Set(id, "b"), Ct);

        var e = await Assert.ThrowsAsync<KeelException>(
            () => Store.RollbackAsync(Rollback(id, 1) with { Condition = VersionCondition.IsVersion(1) }, Ct));

        Assert.Equal(KeelError.PreconditionFailed, e.Error);
        Assert.Equal("b", (await Store.GetAsync(id, Ct))!.Value);
        await Store.RollbackAsync(Rollback(id, 1) with { Condition = VersionCondition.IsVersion(2) }, Ct);
        Assert.Equal("a", (await Store.GetAsync(id, Ct))!.Value);
    }

    [Fact]
    public virtual async Task GetMany_ReturnsLiveKeysOnly_OnceEach()
    {
        var service = Service();
        await Store.SetAsync(Set(new ConfigId(service, "dev", "a"), "1"), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "dev", "b"), "2"), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "dev", "gone"), "3"), Ct);
        await Store.DeleteAsync(Delete(new ConfigId(service, "dev", "gone")), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "prod", "c"), "4"), Ct);

        var entries = await Store.GetManyAsync(service, "dev", ["a", "b", "a", "gone", "c", "missing"], Ct);

        Assert.Equal(["a", "b"], entries.Select(e => e.Id.Key).Order(StringComparer.Ordinal));
        Assert.Equal("2", entries.Single(e => e.Id.Key == "b").Value);
    }

    [Fact]
    public virtual async Task GetMany_ReadsAThousandKeysAtOnce()
    {
        var service = Service();
        var keys = Enumerable.Range(0, 1000).Select(i => $"key-{i:D4}").ToArray();
        foreach (var key in keys.Where((_, i) => i % 2 == 0))
        {
            await Store.SetAsync(Set(new ConfigId(service, "dev", key), key), Ct);
        }

        var entries = await Store.GetManyAsync(service, "dev", keys, Ct);

        Assert.Equal(500, entries.Count);
        Assert.All(entries, e => Assert.Equal(e.Id.Key, e.Value));
    }

    [Fact]
    public virtual async Task GetMany_ReturnsNothing_ForNoKeys()
    {
        Assert.Empty(await Store.GetManyAsync(Service(), "dev", [], Ct));
    }

    [Fact]
    public virtual async Task List_ReturnsLiveKeysInKeyOrder_WithTheRevisionTheyWereReadAt()
    {
        var service = Service();
        await Store.SetAsync(Set(new ConfigId(service, "dev", "b"), "2"), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "dev", "a"), "1"), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "dev", "B"), "3"), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "dev", "gone"), "x"), Ct);
        await Store.DeleteAsync(Delete(new ConfigId(service, "dev", "gone")), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "prod", "p"), "x"), Ct);
        var revision = await GetRevisionAsync();

        var snapshot = await Store.ListAsync(service, "dev", Ct);

        Assert.Equal(["B", "a", "b"], snapshot.Entries.Select(e => e.Id.Key));
        Assert.Equal(["3", "1", "2"], snapshot.Entries.Select(e => e.Value));
        Assert.True(snapshot.Revision >= revision);
    }

    [Fact]
    public virtual async Task ListAfter_ReadsTheLiveKeysPastAKey_InKeyOrder_WhetherOrNotTheKeyExists()
    {
        var service = Service();
        foreach (var key in new[] { "c", "B", "a.b", "a", "b", "gone" })
        {
            await Store.SetAsync(Set(new ConfigId(service, "dev", key), key), Ct);
        }

        await Store.DeleteAsync(Delete(new ConfigId(service, "dev", "c")), Ct);
        await Store.SetAsync(Set(new ConfigId(service, "prod", "z"), "x"), Ct);
        var revision = await GetRevisionAsync();

        var afterA = await Store.ListAfterAsync(service, "dev", "a", Ct);
        var afterMissing = await Store.ListAfterAsync(service, "dev", "a0", Ct);
        var afterLast = await Store.ListAfterAsync(service, "dev", "gone", Ct);

        Assert.Equal(["a.b", "b", "gone"], afterA.Entries.Select(e => e.Id.Key));
        Assert.Equal(["b", "gone"], afterMissing.Entries.Select(e => e.Id.Key));
        Assert.Empty(afterLast.Entries);
        Assert.True(afterA.Revision >= revision);
        Assert.Equal(afterA.LastChangeRevision, (await Store.ListAsync(service, "dev", Ct)).LastChangeRevision);
    }

    [Fact]
    public virtual async Task List_IsEmpty_ForAnUnknownServiceAndEnvironment()
    {
        var snapshot = await Store.ListAsync(Service(), "dev", Ct);

        Assert.Empty(snapshot.Entries);
        Assert.True(snapshot.Revision >= 0);
    }

    [Fact]
    public virtual async Task GetLastRevision_FollowsChangesToTheServiceAndEnvironment_DeletesIncluded()
    {
        var service = Service();
        Assert.Equal(0, await Store.GetLastRevisionAsync(service, "dev", Ct));

        var set = await Store.SetAsync(Set(new ConfigId(service, "dev", "a"), "1"), Ct);
        Assert.Equal(set.Revision, await Store.GetLastRevisionAsync(service, "dev", Ct));

        await Store.SetAsync(Set(new ConfigId(service, "prod", "a"), "1"), Ct);
        Assert.Equal(set.Revision, await Store.GetLastRevisionAsync(service, "dev", Ct));

        var delete = await Store.DeleteAsync(Delete(new ConfigId(service, "dev", "a")), Ct);
        Assert.Equal(delete.Revision, await Store.GetLastRevisionAsync(service, "dev", Ct));
    }

    [Fact]
    public virtual async Task ConcurrentWritersOfOneKey_YieldContiguousVersions_NoneLost()
    {
        var id = Id();
        const int writers = 64;

        var changes = await Task.WhenAll(Enumerable.Range(0, writers).Select(i => Task.Run(
            () => Store.SetAsync(Set(id, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Ct), Ct)));

        Assert.Equal(Enumerable.Range(1, writers).Select(v => (long)v), changes.Select(c => c.Version).Order());
        Assert.Equal(writers, changes.Select(c => c.Revision).Distinct().Count());
        var history = (await Store.GetHistoryAsync(id, 1000, null, Ct))!;
        Assert.Equal(Enumerable.Range(1, writers).Select(v => (long)v).Reverse(), history.Select(v => v.Version));
        Assert.Equal(
            Enumerable.Range(0, writers).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal),
            history.Select(v => v.Value!).Order(StringComparer.Ordinal));

        // Versions and revisions rise together: the store orders one key's changes exactly as it commits them.
        var byVersion = history.OrderBy(v => v.Version).Select(v => v.Revision).ToArray();
        Assert.Equal(byVersion.Order(), byVersion);
        Assert.Equal(writers, (await Store.GetAsync(id, Ct))!.Version);
    }

    [Fact]
    public virtual async Task ConcurrentConditionalWriters_ExactlyOneWinsEachVersion()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "start"), Ct);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            try
            {
                await Store.SetAsync(Set(id, $"writer-{i}", condition: VersionCondition.IsVersion(1)), Ct);
                return true;
            }
            catch (KeelException e) when (e.Error == KeelError.PreconditionFailed)
            {
                return false;
            }
        }, Ct)));

        Assert.Single(outcomes, won => won);
        Assert.Equal(2, (await Store.GetAsync(id, Ct))!.Version);
    }

    [Fact]
    public virtual async Task Changes_SurviveReopeningTheStore()
    {
        var id = Id();
        await Store.SetAsync(Set(id, "a"), Ct);
        await Store.SetAsync(Set(id, "b"), Ct);
        var deleted = id with { Key = "deleted" };
        await Store.SetAsync(Set(deleted, "x"), Ct);
        await Store.DeleteAsync(Delete(deleted), Ct);
        var revision = await GetRevisionAsync();

        await Fixture.ReopenAsync();

        var entry = (await Store.GetAsync(id, Ct))!;
        Assert.Equal("b", entry.Value);
        Assert.Equal(2, entry.Version);
        Assert.Null(await Store.GetAsync(deleted, Ct));
        Assert.Equal(2, (await Store.GetHistoryAsync(deleted, 10, null, Ct))!.Count);
        Assert.Equal(revision, await GetRevisionAsync());
        var next = await Store.SetAsync(Set(id, "c"), Ct);
        Assert.Equal(3, next.Version);
        Assert.Equal(revision + 1, next.Revision);
    }

    [Fact]
    public virtual async Task Changes_AreVisibleToAnotherStoreOnTheSameData()
    {
        var id = Id();
        var opened = await Fixture.OpenAnotherAsync();
        var other = opened.Configs;
        try
        {
            await Store.SetAsync(Set(id, "from the first"), Ct);
            Assert.Equal("from the first", (await other.GetAsync(id, Ct))!.Value);

            var change = await other.SetAsync(Set(id, "from the second"), Ct);
            Assert.Equal(2, change.Version);
            Assert.Equal(2, (await Store.GetHistoryAsync(id, 10, null, Ct))!.Count);
        }
        finally
        {
            await opened.DisposeAsync();
        }
    }

    [Fact]
    public virtual async Task Set_WithACancelledToken_ChangesNothing()
    {
        var id = Id();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.SetAsync(Set(id, "a"), cancelled.Token));

        Assert.Null(await Store.GetHistoryAsync(id, 10, null, Ct));
    }

    [Fact]
    public virtual async Task ChangeSet_CreatesUpdatesAndDeletes_AsOneRevision()
    {
        var service = Service();
        var kept = new ConfigId(service, "dev", "kept");
        var updated = new ConfigId(service, "dev", "updated");
        var deleted = new ConfigId(service, "dev", "deleted");
        await PutAsync(kept, "k");
        await PutAsync(updated, "old");
        await PutAsync(deleted, "gone soon");
        var before = await GetRevisionAsync();

        var result = await Store.ApplyChangeSetAsync(
            ChangeSet(
                service,
                ChangeSetItem.Set("created", "42", ConfigValueType.Number),
                ChangeSetItem.Set("updated", "new"),
                ChangeSetItem.Delete("deleted")) with
            { ChangeDescription = "import" },
            Ct);

        Assert.Equal(before + 1, result.Revision);
        Assert.Equal(before + 1, await GetRevisionAsync());
        Assert.All(result.Changes, c => Assert.Equal(result.Revision, c.Revision));
        Assert.Equal(
            [("created", ChangeType.Create, 1L), ("updated", ChangeType.Update, 2L), ("deleted", ChangeType.Delete, 2L)],
            result.Changes.Select(c => (c.Id.Key, c.ChangeType, c.Version)));

        var created = await Store.GetAsync(new ConfigId(service, "dev", "created"), Ct);
        Assert.Equal(("42", ConfigValueType.Number, 1L, before + 1), (created!.Value, created.ValueType, created.Version, created.Revision));
        Assert.Equal("new", (await Store.GetAsync(updated, Ct))!.Value);
        Assert.Null(await Store.GetAsync(deleted, Ct));
        Assert.Equal(1, (await Store.GetAsync(kept, Ct))!.Version);
        var history = await Store.GetHistoryAsync(updated, 10, null, Ct);
        Assert.Equal(("import", before + 1, ChangeType.Update), (history![0].ChangeDescription, history[0].Revision, history[0].ChangeType));
        Assert.Equal(before + 1, await Store.GetLastRevisionAsync(service, "dev", Ct));
    }

    [Fact]
    public virtual async Task ChangeSet_WithStaleConditions_NamesEveryConflictingKey_AndWritesNothing()
    {
        var service = Service();
        await PutAsync(new ConfigId(service, "dev", "a"), "a1");
        await PutAsync(new ConfigId(service, "dev", "a"), "a2");
        await PutAsync(new ConfigId(service, "dev", "b"), "b1");
        var before = await GetRevisionAsync();

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.ApplyChangeSetAsync(
            ChangeSet(
                service,
                ChangeSetItem.Set("a", "x", ConfigValueType.String, condition: VersionCondition.IsVersion(1)),
                ChangeSetItem.Set("b", "x", ConfigValueType.String, condition: VersionCondition.IsVersion(1)),
                ChangeSetItem.Set("c", "x", ConfigValueType.String, condition: VersionCondition.IsVersion(1)),
                ChangeSetItem.Delete("never")),
            Ct));

        Assert.Equal(KeelError.VersionConflict, e.Error);
        Assert.Equal(["a", "c", "never"], e.FieldErrors.Select(f => f.Path));
        Assert.Contains("is at version 2", e.FieldErrors[0].Message, StringComparison.Ordinal);
        Assert.Equal(before, await GetRevisionAsync());
        Assert.Equal("b1", (await Store.GetAsync(new ConfigId(service, "dev", "b"), Ct))!.Value);
        Assert.Null(await Store.GetHistoryAsync(new ConfigId(service, "dev", "c"), 10, null, Ct));
        Assert.Null(await Store.GetHistoryAsync(new ConfigId(service, "dev", "never"), 10, null, Ct));
    }

    [Fact]
    public virtual async Task ChangeSet_WithUnchangedSince_FailsWhenAnyKeyOfTheScopeChangedAfterIt()
    {
        var service = Service();
        var other = new ConfigId(service, "dev", "other");
        await PutAsync(other, "1");
        var planned = await Store.ListAsync(service, "dev", Ct);
        await PutAsync(other, "2");
        await PutAsync(new ConfigId(service, "prod", "elsewhere"), "x");
        var before = await GetRevisionAsync();

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.ApplyChangeSetAsync(
            ChangeSet(service, ChangeSetItem.Set("a", "x", ConfigValueType.String)) with { UnchangedSince = planned.LastChangeRevision }, Ct));
        var replanned = await Store.ListAsync(service, "dev", Ct);
        var result = await Store.ApplyChangeSetAsync(
            ChangeSet(service, ChangeSetItem.Set("a", "x", ConfigValueType.String)) with { UnchangedSince = replanned.LastChangeRevision }, Ct);

        Assert.Equal(KeelError.ConcurrentChange, e.Error);
        Assert.Equal(before + 1, result.Revision);
    }

    [Fact]
    public virtual async Task ChangeSet_ThatIsEmpty_TakesNoRevision()
    {
        var before = await GetRevisionAsync();

        var result = await Store.ApplyChangeSetAsync(ChangeSet(Service()), Ct);

        Assert.Null(result.Revision);
        Assert.Empty(result.Changes);
        Assert.Equal(before, await GetRevisionAsync());
    }

    [Fact]
    public virtual async Task ChangeSet_RepeatingAKey_IsRefused()
    {
        var service = Service();

        var e = await Assert.ThrowsAsync<KeelException>(() => Store.ApplyChangeSetAsync(
            ChangeSet(service, ChangeSetItem.Set("a", "1", ConfigValueType.String), ChangeSetItem.Delete("a")), Ct));

        Assert.Equal(KeelError.InvalidRequest, e.Error);
        Assert.Null(await Store.GetHistoryAsync(new ConfigId(service, "dev", "a"), 10, null, Ct));
    }

    [Fact]
    public virtual async Task ChangeSet_OfTenThousandKeys_CommitsWhole()
    {
        var service = Service();
        var items = Enumerable.Range(0, 10_000).Select(i => ChangeSetItem.Set($"k{i:D5}", $"v{i}", ConfigValueType.String)).ToArray();

        var result = await Store.ApplyChangeSetAsync(ChangeSet(service, items), Ct);

        var listed = await Store.ListAsync(service, "dev", Ct);
        Assert.Equal(10_000, listed.Entries.Count);
        Assert.All(listed.Entries, e => Assert.Equal(result.Revision, e.Revision));
        Assert.Equal("v9999", listed.Entries[^1].Value);
    }

    [Fact]
    public virtual async Task ConcurrentChangeSets_OverOverlappingKeys_AllCommit_WithContiguousVersions()
    {
        var service = Service();
        var opened = await Fixture.OpenAnotherAsync();
        var other = opened.Configs;
        try
        {
            // Each writer lists the keys in its own order; a store that locked them in request order could deadlock.
            var keys = Enumerable.Range(0, 20).Select(i => $"k{i:D2}").ToArray();
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                var store = w % 2 == 0 ? Store : other;
                var ordered = w % 3 == 0 ? keys.Reverse() : keys;
                for (var round = 0; round < 5; round++)
                {
                    await store.ApplyChangeSetAsync(
                        ChangeSet(service, [.. ordered.Select(k => ChangeSetItem.Set(k, $"{w}.{round}", ConfigValueType.String))]), Ct);
                }
            }, Ct));
            await Task.WhenAll(writers);

            foreach (var key in keys)
            {
                var history = await Store.GetHistoryAsync(new ConfigId(service, "dev", key), 100, null, Ct);
                Assert.Equal(Enumerable.Range(1, 40).Reverse().Select(v => (long)v), history!.Select(h => h.Version));
            }
        }
        finally
        {
            await opened.DisposeAsync();
        }
    }

    protected static ChangeSetRequest ChangeSet(string service, params ChangeSetItem[] items) => new()
    {
        ServiceName = service,
        Environment = "dev",
        Items = items,
        Actor = TestIdentities.Tester,
    };

    protected static SetConfigRequest Set(
        ConfigId id,
        string value,
        ConfigValueType type = ConfigValueType.String,
        string? description = null,
        VersionCondition condition = default) => new()
        {
            Id = id,
            Value = value,
            ValueType = type,
            ChangeDescription = description,
            Actor = TestIdentities.Tester,
            Condition = condition,
        };

    protected static DeleteConfigRequest Delete(ConfigId id, string? description = null, VersionCondition condition = default) => new()
    {
        Id = id,
        ChangeDescription = description,
        Actor = TestIdentities.Tester,
        Condition = condition,
    };

    protected static RollbackConfigRequest Rollback(ConfigId id, long target) => new()
    {
        Id = id,
        TargetVersion = target,
        Actor = TestIdentities.Tester,
    };
}
