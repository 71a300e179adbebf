// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;

namespace Keel.Core.Storage;

/// <summary>
/// The change feed: every committed change, in revision order, kept for a retention window. A reader that has seen revision N
/// and reads after N gets every later change exactly once, in order.
/// </summary>
public interface IChangeFeedStore
{
    /// <summary>
    /// Raised after a change commits, with its revision. Handlers run on the committing thread, so they must be quick and must
    /// not throw; a missed call costs latency, never a change, because readers read the feed itself.
    /// </summary>
    event Action<long>? Committed;

    /// <summary>Reads changes after a revision.</summary>
    /// <param name="query">Where to start, what to include, how many.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<ChangeFeedPage> ReadChangesAsync(ChangeFeedQuery query, CancellationToken cancellationToken);

    /// <summary>Removes the changes that fall outside <paramref name="retention"/>.</summary>
    /// <param name="retention">What to keep.</param>
    /// <param name="cancellationToken">Cancels the compaction between batches.</param>
    /// <returns>The newest compacted revision; readers asking from before it are told to re-read.</returns>
    Task<long> CompactChangesAsync(ChangeRetention retention, CancellationToken cancellationToken);
}
