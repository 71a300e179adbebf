// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    const int CompactionBatchSize = 10_000;

    const string ChangeColumns = "revision, service_name, environment, config_key, version, change_type, changed_at";

    /// <inheritdoc/>
    /// <remarks>Raised for this node's own commits at once, and for every node's commits when the notification arrives.</remarks>
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
            // Revisions commit in order, so every change up to the snapshot's revision is in it.
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                using var command = new NpgsqlCommand(
                    "SELECT r.revision, f.compacted_revision FROM keel_revision r, keel_feed f WHERE r.id = 1 AND f.id = 1;",
                    connection,
                    transaction);
                var (current, compacted) = (await ReadAllAsync(command, static r => (r.GetInt64(0), r.GetInt64(1)), 1, cancellationToken)
                    .ConfigureAwait(false))[0];
                if (ChangeFeedPaging.WithoutChanges(query.AfterRevision, current, compacted) is { } answer)
                {
                    return answer;
                }

                var filter = (query.ServiceName is null ? string.Empty : " AND service_name = @service_name")
                    + (query.Environment is null ? string.Empty : " AND environment = @environment");
                command.CommandText = $"""
                    SELECT {ChangeColumns} FROM changes WHERE revision > @after AND revision <= @current{filter}
                    ORDER BY revision, seq LIMIT @limit;
                    """;
                command.Parameters.Add(new NpgsqlParameter<long>("after", query.AfterRevision));
                command.Parameters.Add(new NpgsqlParameter<long>("current", current));
                command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit + 1));
                command.Parameters.Add(new NpgsqlParameter("service_name", (object?)query.ServiceName ?? DBNull.Value));
                command.Parameters.Add(new NpgsqlParameter("environment", (object?)query.Environment ?? DBNull.Value));
                var changes = await ReadAllAsync(command, ReadChange, Math.Min(query.Limit + 1, 256), cancellationToken).ConfigureAwait(false);
                var through = ChangeFeedPaging.EndOnWholeRevision(changes, query.Limit, current);
                if (through is null)
                {
                    var whole = changes[0].Revision;
                    command.CommandText = $"SELECT {ChangeColumns} FROM changes WHERE revision = @revision{filter} ORDER BY seq;";
                    command.Parameters.Add(new NpgsqlParameter<long>("revision", whole));
                    changes = await ReadAllAsync(command, ReadChange, query.Limit + 1, cancellationToken).ConfigureAwait(false);
                    through = whole;
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new ChangeFeedPage
                {
                    Status = ChangeFeedStatus.Ok,
                    Changes = changes,
                    Through = through.Value,
                    CurrentRevision = current,
                    CompactedRevision = compacted,
                };
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<long> CompactChangesAsync(ChangeRetention retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retention);
        ArgumentOutOfRangeException.ThrowIfNegative(retention.Revisions);
        var cutoff = _timeProvider.GetUtcNow() - retention.Period;
        while (true)
        {
            // Each batch is its own short transaction. The feed row's lock makes nodes that compact at once take turns.
            var (compacted, done) = await WriteAsync((retention, cutoff), static async (_, write, state, cancellationToken) =>
            {
                using var select = write.Command("""
                    SELECT f.compacted_revision, r.revision,
                           (SELECT COALESCE(MAX(revision), 0) FROM changes WHERE changed_at < @cutoff)
                    FROM keel_feed f, keel_revision r WHERE f.id = 1 AND r.id = 1
                    FOR UPDATE OF f;
                    """);
                select.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", state.cutoff));
                var (compacted, current, expired) = (await ReadAllAsync(
                    select, static r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)), 1, cancellationToken).ConfigureAwait(false))[0];
                var target = state.retention.CompactThrough(current, expired);
                if (target <= compacted)
                {
                    return (compacted, true);
                }

                var upTo = Math.Min(target, compacted + CompactionBatchSize);
                using var delete = write.Batch();
                delete.BatchCommands.Add(Statement("DELETE FROM changes WHERE revision > @from AND revision <= @to;", ("from", compacted), ("to", upTo)));
                delete.BatchCommands.Add(Statement("UPDATE keel_feed SET compacted_revision = @to WHERE id = 1;", ("to", upTo)));
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return (upTo, upTo == target);
            }, cancellationToken).ConfigureAwait(false);

            if (done)
            {
                return compacted;
            }
        }
    }

    static ChangeEvent ReadChange(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        new ConfigId(reader.GetString(1), reader.GetString(2), reader.GetString(3)),
        reader.GetInt64(4),
        ChangeTypes.ParseStored(reader.GetString(5)),
        reader.GetFieldValue<DateTimeOffset>(6));
}
