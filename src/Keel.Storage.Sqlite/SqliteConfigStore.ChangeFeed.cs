// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Keel.Core.Configs;
using Microsoft.Data.Sqlite;

namespace Keel.Storage.Sqlite;

public sealed partial class SqliteConfigStore
{
    const int CompactionBatchSize = 10_000;

    const string ChangeColumns = "revision, service_name, environment, config_key, version, change_type, changed_at";

    /// <inheritdoc/>
    public event Action<long>? Committed;

    /// <inheritdoc/>
    public Task<ChangeFeedPage> ReadChangesAsync(ChangeFeedQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(query.AfterRevision);
        return ReadAsync(query, static async (connection, query, cancellationToken) =>
        {
            // One snapshot: the revisions and the rows agree, and a compaction cannot remove rows between the check and the read.
            using var transaction = connection.BeginTransaction(deferred: true);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT revision, compacted_revision FROM keel_revision WHERE id = 1;";
            long current, compacted;
            using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                current = reader.GetInt64(0);
                compacted = reader.GetInt64(1);
            }

            if (ChangeFeedPaging.WithoutChanges(query.AfterRevision, current, compacted) is { } answer)
            {
                return answer;
            }

            var filter = ScopeFilter(command, query);
            command.CommandText = $"SELECT {ChangeColumns} FROM changes WHERE revision > $after{filter} ORDER BY revision, seq LIMIT $limit;";
            command.Parameters.AddWithValue("$after", query.AfterRevision);
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            var changes = await ReadAllAsync(command, ReadChange, Math.Min(query.Limit + 1, 256), cancellationToken).ConfigureAwait(false);
            var through = ChangeFeedPaging.EndOnWholeRevision(changes, query.Limit, current);
            if (through is null)
            {
                var whole = changes[0].Revision;
                command.CommandText = $"SELECT {ChangeColumns} FROM changes WHERE revision = $revision{filter} ORDER BY seq;";
                command.Parameters.AddWithValue("$revision", whole);
                changes = await ReadAllAsync(command, ReadChange, query.Limit + 1, cancellationToken).ConfigureAwait(false);
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
        }, cancellationToken);
    }

    static string ScopeFilter(SqliteCommand command, ChangeFeedQuery query)
    {
        var filter = string.Empty;
        if (query.ServiceName is not null)
        {
            filter += " AND service_name = $service_name";
            command.Parameters.AddWithValue("$service_name", query.ServiceName);
        }

        if (query.Environment is not null)
        {
            filter += " AND environment = $environment";
            command.Parameters.AddWithValue("$environment", query.Environment);
        }

        return filter;
    }

    /// <inheritdoc/>
    public async Task<long> CompactChangesAsync(ChangeRetention retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retention);
        ArgumentOutOfRangeException.ThrowIfNegative(retention.Revisions);
        var cutoff = ToUnixMicroseconds(_timeProvider.GetUtcNow() - retention.Period);
        while (true)
        {
            // Each batch is its own short transaction, so that writers wait at most one batch.
            var (compacted, done) = await RunLockedAsync((retention, cutoff), static async (_, writer, state, cancellationToken) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var transaction = writer.Begin();
                long current, compacted;
                using (var select = writer.Command("SELECT revision, compacted_revision FROM keel_revision WHERE id = 1;"))
                using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    current = reader.GetInt64(0);
                    compacted = reader.GetInt64(1);
                }

                long expired;
                using (var select = writer.Command("SELECT COALESCE(MAX(revision), 0) FROM changes WHERE changed_at < $cutoff;"))
                {
                    select.Parameters.AddWithValue("$cutoff", state.cutoff);
                    expired = await ExecuteInt64Async(select, cancellationToken).ConfigureAwait(false);
                }

                var target = state.retention.CompactThrough(current, expired);
                if (target <= compacted)
                {
                    return (compacted, true);
                }

                var upTo = Math.Min(target, compacted + CompactionBatchSize);
                using (var delete = writer.Command("""
                    DELETE FROM changes WHERE revision > $from AND revision <= $to;
                    UPDATE keel_revision SET compacted_revision = $to WHERE id = 1;
                    """))
                {
                    delete.Parameters.AddWithValue("$from", compacted);
                    delete.Parameters.AddWithValue("$to", upTo);
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return (upTo, upTo == target);
            }, cancellationToken).ConfigureAwait(false);

            if (done)
            {
                return compacted;
            }
        }
    }

    static ChangeEvent ReadChange(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        new ConfigId(reader.GetString(1), reader.GetString(2), reader.GetString(3)),
        reader.GetInt64(4),
        ChangeTypes.ParseStored(reader.GetString(5)),
        FromUnixMicroseconds(reader.GetInt64(6)));
}
