// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Security.Claims;
using System.Text;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Security;
using Keel.Server.Security;
using Keel.Server.Watch;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Keel.Server.Tests.Watch;

/// <summary>
/// The in-memory feed's bookkeeping, where several changes share a revision (as an import's do), and its wake-ups: a change
/// wakes only the waiters whose filters match it.
/// </summary>
public sealed class ChangeFeedTests
{
    [Fact]
    public void TryRead_EndsOnAWholeRevision_EvenPastTheMaximum()
    {
        var feed = Feed(16);
        feed.Reset(0);
        feed.Append([Change(1, "a"), Change(2, "b"), Change(2, "c"), Change(2, "d"), Change(3, "e")], 3);

        List<FeedChange> read = [];
        var through = feed.TryRead(0, read, max: 2);

        Assert.Equal(2, through);
        Assert.Equal(["a", "b", "c", "d"], read.Select(c => c.Change.Id.Key));
        read.Clear();
        Assert.Equal(3, feed.TryRead(2, read, max: 2));
        Assert.Equal(["e"], read.Select(c => c.Change.Id.Key));
    }

    [Fact]
    public void TryRead_AtOrPastTheHead_IsEmptyAtThePosition()
    {
        var feed = Feed(16);
        feed.Reset(5);
        feed.Append([Change(6, "a")], 6);

        List<FeedChange> read = [];
        Assert.Equal(6, feed.TryRead(6, read, 10));
        Assert.Equal(9, feed.TryRead(9, read, 10));
        Assert.Empty(read);
    }

    [Fact]
    public void Append_BeyondCapacity_DropsTheOldestRevisionWhole_AndSendsEarlierReadersToTheStore()
    {
        var feed = Feed(16);
        feed.Reset(0);
        feed.Append([.. Enumerable.Range(1, 15).Select(i => Change(i, $"k{i}"))], 15);
        feed.Append([Change(16, "x"), Change(16, "y")], 16);

        List<FeedChange> read = [];
        Assert.Null(feed.TryRead(0, read, 100));
        Assert.False(feed.Holds(0));
        Assert.True(feed.Holds(1));
        Assert.Equal(16, feed.TryRead(1, read, 100));
        Assert.Equal(Enumerable.Range(2, 14).Select(i => $"k{i}").Concat(["x", "y"]), read.Select(c => c.Change.Id.Key));
    }

    [Fact]
    public async Task WaitPast_CompletesWhenTheFeedAdvances()
    {
        var feed = Feed(16);
        feed.Reset(3);

        var waiting = feed.WaitPastAsync(3);
        Assert.False(waiting.IsCompleted);
        Assert.True(feed.WaitPastAsync(2).IsCompleted);
        feed.Append([Change(4, "a")], 4);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Change_WakesOnlyTheWaitersWhoseFiltersMatchIt_AndMovesTheOthersPastIt()
    {
        var feed = Feed(16);
        feed.Reset(0);
        using var key = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&keys=k"));
        using var otherKey = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&keys=other"));
        using var service = new ChangeWaiter(feed, Filter("service_name=svc"));
        using var otherService = new ChangeWaiter(feed, Filter("service_name=else&environment=dev"));
        using var otherEnvironment = new ChangeWaiter(feed, Filter("service_name=svc&environment=prod"));
        using var flags = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&kind=flag"));
        using var everything = new ChangeWaiter(feed, Filter(""));
        ChangeWaiter[] waiters = [key, otherKey, service, otherService, otherEnvironment, flags, everything];
        var waits = waiters.Select(w => w.WaitAsync(0).AsTask()).ToArray();

        feed.Append([Change(1, "k")], 1);

        var ended = await Task.WhenAll(waits.Select(EndsSoonAsync));
        Assert.Equal([true, false, true, false, false, false, true], ended);
        // The woken read from where they waited; the others have seen revision 1 and nothing in it for them.
        Assert.Equal([0L, 1, 0, 1, 1, 1, 0], waiters.Select(w => w.Disarm()));
    }

    [Fact]
    public async Task Waiter_OfAFlagEnvironment_WakesForItsFlagsAndNotForTheConfigurationOfTheSameName()
    {
        var feed = Feed(16);
        feed.Reset(0);
        using var flags = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&kind=flag"));
        var wait = flags.WaitAsync(0).AsTask();

        feed.Append([Change(1, "k")], 1);
        Assert.False(await EndsSoonAsync(wait));
        feed.Append([new ChangeEvent(2, FlagStorage.Id("svc", "dev", "new-ui"), 1, ChangeType.Create, DateTimeOffset.UnixEpoch)], 2);

        Assert.True(await EndsSoonAsync(wait));
        Assert.Equal(0, flags.Disarm());
    }

    [Fact]
    public async Task Waiter_NotWoken_KeepsItsPlace_WhileMoreChangesThanTheRingHoldsPassIt()
    {
        var feed = Feed(16);
        feed.Reset(0);
        using var quiet = new ChangeWaiter(feed, Filter("service_name=quiet&environment=dev"));
        var wait = quiet.WaitAsync(0).AsTask();

        for (var i = 1; i <= 40; i++)
        {
            feed.Append([Change(i, $"k{i}")], i);
        }

        Assert.False(await EndsSoonAsync(wait));
        Assert.False(feed.Holds(0));
        var position = quiet.Disarm();
        Assert.Equal(40, position);
        Assert.Equal(40, feed.TryRead(position, [], 100));
    }

    [Fact]
    public void Waiter_ArmedAfterAMatchingChangeArrived_IsDoneAtOnce_AndOneArmedAfterOthersSkipsThem()
    {
        var feed = Feed(16);
        feed.Reset(0);
        feed.Append([Change(1, "k"), Change(2, "other")], 2);
        using var key = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&keys=k"));
        using var absent = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&keys=absent"));

        Assert.True(key.WaitAsync(0).AsTask().IsCompleted);
        Assert.Equal(0, key.Disarm());
        Assert.False(absent.WaitAsync(0).AsTask().IsCompleted);
        Assert.Equal(2, absent.Disarm());
        _ = absent.WaitAsync(2).AsTask();
        Assert.Throws<InvalidOperationException>(() => { _ = absent.WaitAsync(2).AsTask(); });
    }

    [Fact]
    public async Task Interrupt_EndsTheWaitUnderWay_PastWhatItSkipped_OrTheNextWaitAtOnce()
    {
        var feed = Feed(16);
        feed.Reset(0);
        using var waiter = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&keys=k"));
        var wait = waiter.WaitAsync(0).AsTask();
        feed.Append([Change(1, "other")], 1);
        Assert.False(await EndsSoonAsync(wait));

        waiter.Interrupt();

        await wait.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(1, waiter.Disarm());

        // An interrupt with no wait under way (a heartbeat while the stream writes) ends the next wait at once, and only it.
        waiter.Interrupt();
        Assert.True(waiter.WaitAsync(1).AsTask().IsCompleted);
        Assert.Equal(1, waiter.Disarm());
        var next = waiter.WaitAsync(1).AsTask();
        Assert.False(await EndsSoonAsync(next));
        feed.Append([Change(2, "k")], 2);
        await next.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(1, waiter.Disarm());
    }

    [Fact]
    public async Task Reset_WakesEveryWaiter_ToReadAgainFromWhereItWaited()
    {
        var feed = Feed(16);
        feed.Reset(5);
        using var key = new ChangeWaiter(feed, Filter("service_name=svc&environment=dev&keys=k"));
        using var everything = new ChangeWaiter(feed, Filter(""));
        var waits = new[] { key.WaitAsync(5).AsTask(), everything.WaitAsync(5).AsTask() };

        feed.Reset(9);

        var ended = await Task.WhenAll(waits.Select(EndsSoonAsync));
        Assert.Equal([true, true], ended);
        Assert.Equal(5, key.Disarm());
        Assert.Equal(5, everything.Disarm());
    }

    [Fact]
    public void TryRead_WithAFilter_CopiesOnlyWhatItMatches_AndIsCompleteThroughWhatItLookedAt()
    {
        var feed = Feed(16);
        feed.Reset(0);
        feed.Append([Change(1, "a"), Change(2, "b"), Change(3, "a"), Change(4, "c")], 4);

        List<FeedChange> read = [];
        Assert.Equal(3, feed.TryRead(0, read, max: 3, Filter("keys=a")));
        Assert.Equal([1L, 3], read.Select(c => c.Change.Revision));
    }

    [Fact]
    public void Stream_GivesAnIdOnlyToTheLastEventOfEachRevision()
    {
        var buffer = new ArrayBufferWriter<byte>();

        WatchEndpoints.WriteChanges(buffer, [new(Change(7, "a")), new(Change(7, "b")), new(Change(8, "c"))]);

        var blocks = Encoding.UTF8.GetString(buffer.WrittenSpan).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, blocks.Length);
        Assert.DoesNotContain("id:", blocks[0], StringComparison.Ordinal);
        Assert.EndsWith("\nid: 7", blocks[1], StringComparison.Ordinal);
        Assert.EndsWith("\nid: 8", blocks[2], StringComparison.Ordinal);
        Assert.All(blocks, b => Assert.StartsWith("event: config_change\ndata: {", b, StringComparison.Ordinal));
    }

    static ChangeFeed Feed(int capacity) => new(Options.Create(new ChangeFeedOptions { BufferedChanges = capacity }));

    /// <summary>Whether a wait ends within a moment: its wake-up runs on the thread pool, not in the call that wakes it.</summary>
    static async Task<bool> EndsSoonAsync(Task wait) =>
        await Task.WhenAny(wait, Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken)) == wait;

    /// <summary>A watcher's filter, read from a watch query as the endpoint reads it, for a token that may read everything.</summary>
    static ChangeFilter Filter(string query)
    {
        var token = new AccessToken
        {
            Id = "t",
            Name = "reader",
            Kind = TokenKind.Api,
            Permissions = Permissions.Read,
            Scopes = [ScopePattern.Parse("*/*")],
            SecretHash = [],
            CreatedAt = DateTimeOffset.UnixEpoch,
            CreatedBy = "test",
        };
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(new TokenIdentity(token)) };
        context.Request.QueryString = new QueryString("?" + query);
        return ChangeFilter.FromQuery(context);
    }

    static ChangeEvent Change(long revision, string key) =>
        new(revision, new ConfigId("svc", "dev", key), 1, ChangeType.Update, DateTimeOffset.UnixEpoch);
}
