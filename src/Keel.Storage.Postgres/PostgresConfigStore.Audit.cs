// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using Keel.Core.Audit;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditRecord>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return ReadAsync(query, static async (connection, query, cancellationToken) =>
        {
            using var command = new NpgsqlCommand { Connection = connection };
            var sql = new StringBuilder("""
                SELECT id, occurred_at, actor_token_id, actor_name, client_address, action, service_name, environment, target,
                       from_version, to_version, revision, request_id
                FROM audit_log WHERE true
                """);
            void Filter(string condition, string parameter, object? value)
            {
                if (value is not null)
                {
                    sql.Append(" AND ").Append(condition);
                    command.Parameters.Add(Parameter(parameter, value));
                }
            }

            Filter("service_name = @service_name", "service_name", query.ServiceName);
            Filter("environment = @environment", "environment", query.Environment);
            Filter("(actor_token_id = @actor OR actor_name = @actor)", "actor", query.Actor);
            Filter("action = @action", "action", query.Action);
            Filter("occurred_at >= @since", "since", query.Since);
            Filter("occurred_at < @until", "until", query.Until);
            Filter("id < @before_id", "before_id", query.BeforeId);
            sql.Append(" ORDER BY id DESC LIMIT @limit;");
            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit));
            command.CommandText = sql.ToString();
            IReadOnlyList<AuditRecord> records = await ReadAllAsync(command, static r => new AuditRecord
            {
                Id = r.GetInt64(0),
                Time = r.GetFieldValue<DateTimeOffset>(1),
                ActorTokenId = r.IsDBNull(2) ? null : r.GetString(2),
                ActorName = r.GetString(3),
                ClientAddress = r.IsDBNull(4) ? null : r.GetString(4),
                Action = r.GetString(5),
                ServiceName = r.IsDBNull(6) ? null : r.GetString(6),
                Environment = r.IsDBNull(7) ? null : r.GetString(7),
                Target = r.GetString(8),
                FromVersion = r.IsDBNull(9) ? null : r.GetInt64(9),
                ToVersion = r.IsDBNull(10) ? null : r.GetInt64(10),
                Revision = r.IsDBNull(11) ? null : r.GetInt64(11),
                RequestId = r.IsDBNull(12) ? null : r.GetString(12),
            }, Math.Min(query.Limit, 128), cancellationToken).ConfigureAwait(false);
            return records;
        }, cancellationToken);
    }
}
