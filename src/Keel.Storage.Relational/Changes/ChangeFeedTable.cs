// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Relational.Changes;

/// <summary>
/// The change feed: one row per change, in revision order, written by the write engine in the change's transaction, and
/// compacted from the oldest end.
/// </summary>
sealed class ChangeFeedTable(RelationalDatabase db) : IChangeFeedStore
{
    const int CompactionBatchSize = 10_000;

    const string Columns = "revision, service_name, environment, config_key, version, change_type, changed_at";

    /// <inheritdoc/>
    public event Action<long>? Committed
    {
        add => db.Committed += value;
        remove => db.Committed -= value;
    }

    /// <inheritdoc/>
    public Task<ChangeFeedPage> ReadChangesAsync(ChangeFeedQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(query.AfterRevision);

        // One snapshot: the revisions and the rows agree, and a compaction cannot remove rows between the check and the read.
        // Revisions commit in order, so every change up to the snapshot's revision is in it.
        return db.ReadAsync(query, static async (session, query, cancellationToken) =>
        {
            var (current, compacted) = await RevisionsAsync(session, string.Empty, cancellationToken).ConfigureAwait(false);
            if (WithoutChanges(query.AfterRevision, current, compacted) is { } answer)
            {
                return answer;
            }

            using var select = session.Sql(string.Empty);
            var filter = (select.WithOptional("service_name", query.ServiceName) ? " AND service_name = @service_name" : string.Empty)
                + (select.WithOptional("environment", query.Environment) ? " AND environment = @environment" : string.Empty);
            var changes = await select.With("after", query.AfterRevision).With("current", current).With("limit", query.Limit + 1)
                .Text($"SELECT {Columns} FROM changes WHERE revision > @after AND revision <= @current{filter} ORDER BY revision, seq LIMIT @limit;")
                .RowsAsync(Read, cancellationToken, Math.Min(query.Limit + 1, 256)).ConfigureAwait(false);
            var through = EndOnWholeRevision(changes, query.Limit, current);
            if (through is null)
            {
                var whole = changes[0].Revision;
                changes = await select.With("revision", whole)
                    .Text($"SELECT {Columns} FROM changes WHERE revision = @revision{filter} ORDER BY seq;")
                    .RowsAsync(Read, cancellationToken, query.Limit + 1).ConfigureAwait(false);
                through = whole;
            }

            return new ChangeFeedPage
            {
                Status = ChangeFeedStatus.Ok,
                Changes = changes,
                Through = through.Value,
                CurrentRevision = current,
                CompactedRevision = compacted,
            };
        }, cancellationToken, snapshot: true);
    }

    /// <inheritdoc/>
    public async Task<long> CompactChangesAsync(ChangeRetention retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retention);
        ArgumentOutOfRangeException.ThrowIfNegative(retention.Revisions);
        var cutoff = db.Time.GetUtcNow() - retention.Period;
        while (true)
        {
            // Each batch is its own short transaction, so that writers wait at most one batch; the feed row's lock makes nodes
            // that compact at once take turns.
            var (compacted, done) = await db.WriteAsync((retention, cutoff), static async (write, state, cancellationToken) =>
            {
                var (current, compacted) = await RevisionsAsync(write, write.Dialect.ForUpdate("f"), cancellationToken).ConfigureAwait(false);
                long expired;
                using (var select = write.Sql("SELECT COALESCE(MAX(revision), 0) FROM changes WHERE changed_at < @cutoff;"))
                {
                    expired = await select.With("cutoff", state.cutoff).Int64Async(cancellationToken).ConfigureAwait(false);
                }

                var target = state.retention.CompactThrough(current, expired);
                if (target <= compacted)
                {
                    return (compacted, true);
                }

                var upTo = Math.Min(target, compacted + CompactionBatchSize);
                using var delete = write.Sql($"""
                    DELETE FROM changes WHERE revision > @from AND revision <= @to;
                    UPDATE {write.Dialect.FeedTable} SET compacted_revision = @to WHERE id = 1;
                    """);
                await delete.With("from", compacted).With("to", upTo).ExecuteAsync(cancellationToken).ConfigureAwait(false);
                return (upTo, upTo == target);
            }, cancellationToken).ConfigureAwait(false);

            if (done)
            {
                return compacted;
            }
        }
    }

    static async Task<(long Current, long Compacted)> RevisionsAsync(Session session, string lockClause, CancellationToken cancellationToken)
    {
        using var select = session.Sql(
            $"SELECT r.revision, f.compacted_revision FROM keel_revision r, {session.Dialect.FeedTable} f WHERE r.id = 1 AND f.id = 1{lockClause};");
        return (await select.RowsAsync(static (r, _) => (r.GetInt64(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>
    /// The page that answers a read after <paramref name="after"/> without reading a change: a compacted or ahead read, or one at
    /// the current revision; <see langword="null"/> when there are changes to read.
    /// </summary>
    static ChangeFeedPage? WithoutChanges(long after, long current, long compacted)
    {
        var status = after < compacted ? ChangeFeedStatus.Compacted : after > current ? ChangeFeedStatus.Ahead : ChangeFeedStatus.Ok;
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
    /// Trims changes read in order, at most <paramref name="limit"/> + 1 of them, to whole revisions: the revision the limit cuts
    /// through is left for the next page. Returns the revision the page runs through, or <see langword="null"/> when the first
    /// revision alone holds more than <paramref name="limit"/> changes, which the caller then reads whole.
    /// </summary>
    static long? EndOnWholeRevision(List<ChangeEvent> changes, int limit, long current)
    {
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

    static ChangeEvent Read(DbDataReader r, SqlDialect d) => new(
        r.GetInt64("revision"),
        new ConfigId(r.GetString("service_name"), r.GetString("environment"), r.GetString("config_key")),
        r.GetInt64("version"),
        ChangeTypes.ParseStored(r.GetString("change_type")),
        r.GetTime(d, "changed_at"));
}
