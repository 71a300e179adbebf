// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;

namespace Keel.Storage.Relational.Changes;

/// <summary>How a read of the change feed is answered: its status, and where a page ends.</summary>
static class ChangeFeedPaging
{
    /// <summary>
    /// The page that answers a read after <paramref name="after"/> without reading any change: a compacted or ahead read, or one
    /// at the current revision; <see langword="null"/> when there are changes to read.
    /// </summary>
    /// <param name="after">The revision the reader has seen.</param>
    /// <param name="current">The store's current revision.</param>
    /// <param name="compacted">The newest compacted revision.</param>
    public static ChangeFeedPage? WithoutChanges(long after, long current, long compacted)
    {
        var status = after < compacted ? ChangeFeedStatus.Compacted
            : after > current ? ChangeFeedStatus.Ahead
            : ChangeFeedStatus.Ok;
        return status == ChangeFeedStatus.Ok && after < current
            ? null
            : new ChangeFeedPage
            {
                Status = status,
                Changes = [],
                Through = status == ChangeFeedStatus.Ok ? current : after,
                CurrentRevision = current,
                CompactedRevision = compacted,
            };
    }

    /// <summary>
    /// Trims changes read after a revision, at most <paramref name="limit"/> + 1 of them in order, to whole revisions: the
    /// revision the limit cuts through is left for the next page.
    /// </summary>
    /// <param name="changes">The changes read; trimmed in place.</param>
    /// <param name="limit">The page's limit.</param>
    /// <param name="current">The store's current revision, which the page runs through when nothing is cut.</param>
    /// <returns>
    /// The revision the page runs through; or <see langword="null"/> when the first revision alone holds more than
    /// <paramref name="limit"/> changes, which the caller then reads whole (<c>changes[0].Revision</c>).
    /// </returns>
    public static long? EndOnWholeRevision(List<ChangeEvent> changes, int limit, long current)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count <= limit)
        {
            return current;
        }

        var cut = changes[limit].Revision;
        changes.RemoveRange(limit, changes.Count - limit);
        var keep = changes.FindIndex(c => c.Revision == cut);
        if (keep == 0)
        {
            return null;
        }

        if (keep > 0)
        {
            changes.RemoveRange(keep, changes.Count - keep);
        }

        return changes[^1].Revision;
    }
}
