// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Changes;

/// <summary>Whether a change feed read could be answered from the requested revision.</summary>
public enum ChangeFeedStatus
{
    /// <summary>The page holds the changes after the requested revision.</summary>
    Ok,

    /// <summary>The requested revision is older than the retained feed: changes after it were compacted away.</summary>
    Compacted,

    /// <summary>The requested revision is newer than the store's current revision; the store never reached it.</summary>
    Ahead,
}

/// <summary>What a change feed read returned.</summary>
public sealed class ChangeFeedPage
{
    /// <summary>Whether the read could be answered; when not, <see cref="Changes"/> is empty.</summary>
    public required ChangeFeedStatus Status { get; init; }

    /// <summary>The changes after the requested revision that match the query, in revision order; whole revisions only.</summary>
    public required IReadOnlyList<ChangeEvent> Changes { get; init; }

    /// <summary>
    /// The revision through which this page is complete for the query: a reader continues after it. Equals
    /// <see cref="CurrentRevision"/> when nothing later matched.
    /// </summary>
    public required long Through { get; init; }

    /// <summary>The store's revision when the page was read.</summary>
    public required long CurrentRevision { get; init; }

    /// <summary>The newest revision whose changes were compacted away; a reader must start at or after it.</summary>
    public required long CompactedRevision { get; init; }
}

/// <summary>A change feed read: changes after a revision, optionally of one service and environment.</summary>
public sealed record ChangeFeedQuery
{
    /// <summary>The revision the reader has seen; the page starts after it.</summary>
    public required long AfterRevision { get; init; }

    /// <summary>Only changes of this service, when set.</summary>
    public string? ServiceName { get; init; }

    /// <summary>Only changes of this environment, when set.</summary>
    public string? Environment { get; init; }

    /// <summary>
    /// The most changes to return; a page ends on a whole revision, so it may hold more when one revision alone has more.
    /// </summary>
    public required int Limit { get; init; }
}

/// <summary>How much of the change feed a store keeps.</summary>
/// <param name="Revisions">Changes more than this many revisions behind the current one are compacted away.</param>
/// <param name="Period">Changes older than this are compacted away.</param>
public sealed record ChangeRetention(long Revisions, TimeSpan Period)
{
    /// <summary>The revision to compact through, given the current revision and the newest revision older than <see cref="Period"/>.</summary>
    /// <param name="current">The store's current revision.</param>
    /// <param name="expired">The newest revision whose change is older than <see cref="Period"/>; 0 when none is.</param>
    public long CompactThrough(long current, long expired) => Math.Min(current, Math.Max(current - Revisions, expired));
}
