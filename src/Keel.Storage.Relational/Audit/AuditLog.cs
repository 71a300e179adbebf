// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using System.Text;
using Keel.Core.Audit;
using Keel.Core.Storage;

namespace Keel.Storage.Relational.Audit;

/// <summary>The audit trail: one row per change to configuration, flags, schemas, tokens, subscriptions and keys.</summary>
sealed class AuditLog(RelationalDatabase db) : IAuditStore
{
    /// <summary>The insert of one audit record.</summary>
    const string InsertSql = """
        INSERT INTO audit_log (occurred_at, actor_token_id, actor_name, client_address, action, service_name, environment,
                               target, from_version, to_version, revision, request_id)
        VALUES (@occurred_at, @actor_token_id, @actor_name, @client_address, @action, @service_name, @environment,
                @target, @from_version, @to_version, @revision, @request_id);
        """;

    /// <summary>Appends an audit record in the transaction.</summary>
    public static async Task AppendAsync(
        WriteTransaction write,
        Actor actor,
        string action,
        string target,
        CancellationToken cancellationToken,
        string? serviceName = null,
        string? environment = null,
        long? fromVersion = null,
        long? toVersion = null,
        long? revision = null)
    {
        using var insert = write.Prepared(InsertSql);
        await insert.With("occurred_at", write.Now).With("actor_token_id", actor.TokenId).With("actor_name", actor.Name)
            .With("client_address", actor.ClientAddress).With("action", action).With("service_name", serviceName)
            .With("environment", environment).With("target", target).With("from_version", fromVersion).With("to_version", toVersion)
            .With("revision", revision).With("request_id", actor.RequestId)
            .ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditRecord>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return db.ReadAsync(query, static async (session, query, cancellationToken) =>
        {
            var sql = new StringBuilder("SELECT * FROM audit_log WHERE 1 = 1");
            using var select = session.Sql(string.Empty);
            void Filter(string condition, string parameter, object? value)
            {
                if (select.WithOptional(parameter, value))
                {
                    sql.Append(" AND ").Append(condition);
                }
            }

            Filter("service_name = @service_name", "service_name", query.ServiceName);
            Filter("environment = @environment", "environment", query.Environment);
            Filter("(actor_token_id = @actor OR actor_name = @actor)", "actor", query.Actor);
            Filter("action = @action", "action", query.Action);
            Filter("occurred_at >= @since", "since", query.Since);
            Filter("occurred_at < @until", "until", query.Until);
            Filter("id < @before_id", "before_id", query.BeforeId);
            select.With("limit", query.Limit);
            IReadOnlyList<AuditRecord> records = await select.Text(sql.Append(" ORDER BY id DESC LIMIT @limit;").ToString())
                .RowsAsync(Read, cancellationToken, Math.Min(query.Limit, 128)).ConfigureAwait(false);
            return records;
        }, cancellationToken);
    }

    static AuditRecord Read(DbDataReader r, SqlDialect d) => new()
    {
        Id = r.GetInt64("id"),
        Time = r.GetTime(d, "occurred_at"),
        ActorTokenId = r.GetStringOrNull("actor_token_id"),
        ActorName = r.GetString("actor_name"),
        ClientAddress = r.GetStringOrNull("client_address"),
        Action = r.GetString("action"),
        ServiceName = r.GetStringOrNull("service_name"),
        Environment = r.GetStringOrNull("environment"),
        Target = r.GetString("target"),
        FromVersion = r.GetInt64OrNull("from_version"),
        ToVersion = r.GetInt64OrNull("to_version"),
        Revision = r.GetInt64OrNull("revision"),
        RequestId = r.GetStringOrNull("request_id"),
    };
}
