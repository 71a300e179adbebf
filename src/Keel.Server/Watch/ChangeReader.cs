// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Keel.Core.Storage;

namespace Keel.Server.Watch;

/// <summary>What a watcher read: the matching changes, and the revision it has now seen everything through.</summary>
/// <param name="Changes">The matching changes, whole revisions, in order.</param>
/// <param name="Through">The position to read after next.</param>
/// <param name="Gone">Why the position cannot be served, when it cannot; the reader must re-read the snapshot.</param>
/// <param name="Lagging">The changes after the position have left memory, and the read was not to go to the store.</param>
readonly record struct ChangeRead(List<FeedChange> Changes, long Through, ChangeFeedPage? Gone = null, bool Lagging = false);

/// <summary>Reads the changes after a position from the in-memory feed, or from the store when they have left it.</summary>
sealed class ChangeReader(ChangeFeed feed, IChangeFeedStore store)
{
    public ChangeFeed Feed => feed;

    /// <summary>Checks that changes after <paramref name="since"/> can be served; the store's answer when they cannot.</summary>
    /// <remarks>
    /// A watcher at the feed's head (the reconnect after a quiet spell, or a restart) costs no store read; one further back is
    /// checked against the store's compaction, so that the answer does not depend on how much this node holds in memory.
    /// </remarks>
    public async ValueTask<ChangeFeedPage?> CheckStartAsync(long since, CancellationToken cancellationToken)
    {
        if (since == feed.Through && feed.Holds(since))
        {
            return null;
        }

        var page = await store.ReadChangesAsync(new ChangeFeedQuery { AfterRevision = since, Limit = 1 }, cancellationToken);
        return page.Status == ChangeFeedStatus.Ok ? null : page;
    }

    /// <summary>Reads what matches after <paramref name="after"/>.</summary>
    /// <param name="after">The position.</param>
    /// <param name="filter">What the watcher hears of.</param>
    /// <param name="fromStore">Whether changes that have left memory may be read from the store; when not, such a read is gone.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async ValueTask<ChangeRead> ReadAsync(long after, ChangeFilter filter, bool fromStore, CancellationToken cancellationToken)
    {
        List<FeedChange> changes = [];
        var through = feed.TryRead(after, changes, WatchOptions.MaxChangesPerAnswer, filter);
        if (through is null && !fromStore)
        {
            return new ChangeRead(changes, after, Lagging: true);
        }

        if (through is null)
        {
            var page = await store.ReadChangesAsync(
                new ChangeFeedQuery
                {
                    AfterRevision = after,
                    ServiceName = filter.ServiceName,
                    // A flag watcher names its environment as the flag API does; the store knows its flags by their stored environment.
                    Environment = filter.StoredEnvironment,
                    Limit = WatchOptions.MaxChangesPerAnswer,
                },
                cancellationToken);
            if (page.Status != ChangeFeedStatus.Ok)
            {
                return new ChangeRead(changes, after, page);
            }

            foreach (var change in page.Changes)
            {
                if (filter.Matches(change))
                {
                    changes.Add(new FeedChange(change));
                }
            }

            through = page.Through;
        }

        return new ChangeRead(changes, through.Value);
    }
}
