// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Server.Watch;
using Microsoft.Extensions.Options;

namespace Keel.Server.Tests.Watch;

/// <summary>The in-memory feed's bookkeeping, where several changes share a revision (as an import's do).</summary>
public sealed class ChangeFeedTests
{
    [Fact]
    public void TryRead_EndsOnAWholeRevision_EvenPastTheMaximum()
    {
        var feed = Feed(16);
        feed.Reset(0);
        feed.Append([Change(1, "a"), Change(2, "b"), Change(2, "c"), Change(2, "d"), Change(3, "e")], 3);

        List<ChangeEvent> read = [];
        var through = feed.TryRead(0, read, max: 2);

        Assert.Equal(2, through);
        Assert.Equal(["a", "b", "c", "d"], read.Select(c => c.Id.Key));
        read.Clear();
        Assert.Equal(3, feed.TryRead(2, read, max: 2));
        Assert.Equal(["e"], read.Select(c => c.Id.Key));
    }

    [Fact]
    public void TryRead_AtOrPastTheHead_IsEmptyAtThePosition()
    {
        var feed = Feed(16);
        feed.Reset(5);
        feed.Append([Change(6, "a")], 6);

        List<ChangeEvent> read = [];
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

        List<ChangeEvent> read = [];
        Assert.Null(feed.TryRead(0, read, 100));
        Assert.False(feed.Holds(0));
        Assert.True(feed.Holds(1));
        Assert.Equal(16, feed.TryRead(1, read, 100));
        Assert.Equal(Enumerable.Range(2, 14).Select(i => $"k{i}").Concat(["x", "y"]), read.Select(c => c.Id.Key));
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
    public void Stream_GivesAnIdOnlyToTheLastEventOfEachRevision()
    {
        var buffer = new ArrayBufferWriter<byte>();

        WatchEndpoints.WriteChanges(buffer, [Change(7, "a"), Change(7, "b"), Change(8, "c")]);

        var blocks = Encoding.UTF8.GetString(buffer.WrittenSpan).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, blocks.Length);
        Assert.DoesNotContain("id:", blocks[0], StringComparison.Ordinal);
        Assert.EndsWith("\nid: 7", blocks[1], StringComparison.Ordinal);
        Assert.EndsWith("\nid: 8", blocks[2], StringComparison.Ordinal);
        Assert.All(blocks, b => Assert.StartsWith("event: config_change\ndata: {", b, StringComparison.Ordinal));
    }

    static ChangeFeed Feed(int capacity) => new(Options.Create(new ChangeFeedOptions { BufferedChanges = capacity }));

    static ChangeEvent Change(long revision, string key) =>
        new(revision, new ConfigId("svc", "dev", key), 1, ChangeType.Update, DateTimeOffset.UnixEpoch);
}
