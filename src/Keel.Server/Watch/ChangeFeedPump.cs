// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Keel.Core.Storage;
using Keel.Server.Caching;
using Keel.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Keel.Server.Watch;

/// <summary>
/// Keeps <see cref="ChangeFeed"/> current: reads the store's feed after each commit signal (and on a short poll, should a
/// signal be lost), and compacts the stored feed to its retention. Every change it reads invalidates its key in the cache, which
/// is how a change made through another node reaches this node's cache; a restart of the feed past unread changes empties it.
/// </summary>
sealed class ChangeFeedPump(
    IChangeFeedStore store,
    ChangeFeed feed,
    ConfigCache cache,
    IOptions<ChangeFeedOptions> options,
    TimeProvider timeProvider,
    ILogger<ChangeFeedPump> logger) : BackgroundService
{
    const int PageSize = 1000;

    /// <summary>The least time between two failed reads, so that signals arriving while the store is down do not spin the pump.</summary>
    static readonly TimeSpan FailurePause = TimeSpan.FromMilliseconds(100);

    readonly WakeSignal _signal = new();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Started after the store, and before the endpoints answer: a watcher never finds the feed unstarted.
        var first = await store.ReadChangesAsync(new ChangeFeedQuery { AfterRevision = 0, Limit = 1 }, cancellationToken);
        feed.Reset(first.CurrentRevision);
        store.Committed += OnCommitted;
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        store.Committed -= OnCommitted;
        await base.StopAsync(cancellationToken);
    }

    void OnCommitted(long revision) => _signal.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var nextCompaction = timeProvider.GetUtcNow() + o.CompactionInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(o.PollInterval, timeProvider, stoppingToken);
                await CatchUpAsync(stoppingToken);
                if (timeProvider.GetUtcNow() >= nextCompaction)
                {
                    nextCompaction = timeProvider.GetUtcNow() + o.CompactionInterval;
                    var compacted = await store.CompactChangesAsync(new ChangeRetention(o.RetainedRevisions, o.RetentionPeriod), stoppingToken);
                    Log.ChangeFeedCompacted(logger, compacted);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreUnavailableException or InvalidOperationException or IOException)
            {
                // Back to waiting for the next signal or poll, after a short pause, rather than sleeping a whole poll: the
                // listener's reconnect signals as soon as the database is back, and the feed must catch up then.
                Log.ChangeFeedReadFailed(logger, e);
                await Task.Delay(FailurePause, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var after = feed.Through;
            var page = await store.ReadChangesAsync(new ChangeFeedQuery { AfterRevision = after, Limit = PageSize }, cancellationToken);
            if (page.Status != ChangeFeedStatus.Ok)
            {
                // The feed moved on without us (compacted past our position, or the store was replaced): start again at its
                // current revision; watchers behind it read the store and are told to re-read.
                Log.ChangeFeedRestarted(logger, after, page.CurrentRevision, page.Status);
                cache.InvalidateAll();
                feed.Reset(page.CurrentRevision);
                return;
            }

            foreach (var change in page.Changes)
            {
                cache.Invalidate(change.Id);
            }

            feed.Append(page.Changes, page.Through);
            if (page.Through >= page.CurrentRevision)
            {
                return;
            }
        }
    }
}
