// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    /// <summary>What a subscription's secret envelope is bound to, with the subscription's id.</summary>
    const string WebhookSecretPurpose = "webhook";

    const string SubscriptionColumns =
        "id, service_name, environment, config_keys, webhook_url, created_at, created_by, last_notified_at";

    const string DeliveryColumns = """
        d.delivery_id, d.subscription_id, d.revision, d.service_name, d.environment, d.config_key, d.version, d.change_type,
        d.changed_at, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_error, d.last_status_code, d.delivered_at
        """;

    /// <summary>Each subscription's oldest pending delivery; only it can be due, so that a subscription's deliveries keep order.</summary>
    const string HeadOfSubscription = """
        d.status = 'pending'
        AND d.id = (SELECT MIN(e.id) FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id AND e.status = 'pending')
        AND NOT (d.subscription_id = ANY(@except))
        """;

    /// <inheritdoc/>
    public Task<WebhookSubscription> CreateSubscriptionAsync(
        NewWebhookSubscription subscription, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((subscription, actor), static async (_, write, state, cancellationToken) =>
        {
            var s = state.subscription;
            await write.EnsureActiveKeyAsync(cancellationToken).ConfigureAwait(false);
            using var batch = write.Batch();
            batch.BatchCommands.Add(Statement(
                $"""
                INSERT INTO webhook_subscriptions ({SubscriptionColumns}, secret, key_id)
                VALUES (@id, @service_name, @environment, @config_keys, @webhook_url, @created_at, @created_by, NULL, @secret, @key_id);
                """,
                ("id", s.Id), ("service_name", s.ServiceName), ("environment", s.Environment), ("config_keys", s.Keys.ToArray()),
                ("webhook_url", s.Url), ("created_at", write.Now), ("created_by", state.actor.Name),
                ("secret", write.Ring.EncryptSecret(WebhookSecretPurpose, s.Id, s.Secret)), ("key_id", write.Ring.ActiveKeyId)));
            batch.BatchCommands.Add(AuditStatement(
                state.actor, WireNames.AuditActions.SubscriptionCreate, s.Id, write.Now, s.ServiceName, s.Environment));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new WebhookSubscription
            {
                Id = s.Id,
                ServiceName = s.ServiceName,
                Environment = s.Environment,
                Keys = s.Keys,
                Url = s.Url,
                CreatedAt = write.Now,
                CreatedBy = state.actor.Name,
            };
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(string? serviceName, CancellationToken cancellationToken) =>
        ReadAsync(serviceName, static async (connection, serviceName, cancellationToken) =>
        {
            using var command = Command(
                connection,
                $"SELECT {SubscriptionColumns} FROM webhook_subscriptions WHERE @service_name IS NULL OR service_name = @service_name ORDER BY created_at, id;",
                ("service_name", serviceName));
            command.Parameters[0].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
            IReadOnlyList<WebhookSubscription> subscriptions =
                await ReadAllAsync(command, ReadSubscription, 8, cancellationToken).ConfigureAwait(false);
            return subscriptions;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(id, static async (connection, id, cancellationToken) =>
        {
            using var command = Command(connection, $"SELECT {SubscriptionColumns} FROM webhook_subscriptions WHERE id = @id;", ("id", id));
            return (await ReadAllAsync(command, ReadSubscription, 1, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<WebhookSubscription?> DeleteSubscriptionAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((id, actor), static async (_, write, state, cancellationToken) =>
        {
            using var delete = write.Command($"DELETE FROM webhook_subscriptions WHERE id = @id RETURNING {SubscriptionColumns};");
            delete.Parameters.Add(new NpgsqlParameter<string>("id", state.id));
            var deleted = (await ReadAllAsync(delete, ReadSubscription, 1, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            if (deleted is not null)
            {
                using var batch = write.Batch();
                batch.BatchCommands.Add(AuditStatement(
                    state.actor, WireNames.AuditActions.SubscriptionDelete, deleted.Id, write.Now, deleted.ServiceName, deleted.Environment));
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return deleted;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<DueDelivery>> TakeDueDeliveriesAsync(
        DateTimeOffset now, TimeSpan lease, int limit, IReadOnlyCollection<string> exceptSubscriptions, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(exceptSubscriptions);
        var rows = await WriteAsync((now, lease, limit, exceptSubscriptions), static async (_, write, state, cancellationToken) =>
        {
            // SKIP LOCKED: nodes taking at once skip each other's candidates instead of queueing on them; a candidate another node
            // has just leased and committed fails the lease check when its new row version is rechecked.
            using var command = write.Command($"""
                WITH due AS (
                    SELECT d.id FROM webhook_deliveries d
                    WHERE {HeadOfSubscription}
                      AND d.next_attempt_at <= @now AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= @now)
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT @limit
                    FOR UPDATE OF d SKIP LOCKED
                )
                UPDATE webhook_deliveries d SET lease_expires_at = @lease_until
                FROM due, webhook_subscriptions s
                WHERE d.id = due.id AND s.id = d.subscription_id
                RETURNING {DeliveryColumns}, s.webhook_url, s.secret, d.next_attempt_at;
                """);
            command.Parameters.Add(Parameter("now", state.now));
            command.Parameters.Add(Parameter("lease_until", state.now + state.lease));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", state.limit));
            command.Parameters.Add(new NpgsqlParameter<string[]>("except", [.. state.exceptSubscriptions]));
            var taken = await ReadAllAsync(
                command, static r => (Delivery: ReadDelivery(r), Url: r.GetString(16), Secret: r.GetString(17)), 8, cancellationToken)
                .ConfigureAwait(false);
            taken.Sort(static (a, b) => (a.Delivery.NextAttemptAt ?? default).CompareTo(b.Delivery.NextAttemptAt ?? default));
            return taken;
        }, cancellationToken).ConfigureAwait(false);

        var due = new List<DueDelivery>(rows.Count);
        foreach (var row in rows)
        {
            var secret = await RevealSecretAsync(row.Delivery.SubscriptionId, row.Secret, cancellationToken).ConfigureAwait(false);
            due.Add(new DueDelivery(row.Delivery, row.Url, secret));
        }

        return due;
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextDueAsync(IReadOnlyCollection<string> exceptSubscriptions, CancellationToken cancellationToken) =>
        ReadAsync(exceptSubscriptions, static async (connection, except, cancellationToken) =>
        {
            using var command = new NpgsqlCommand($"""
                SELECT MIN(GREATEST(d.next_attempt_at, d.lease_expires_at)) FROM webhook_deliveries d WHERE {HeadOfSubscription};
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<string[]>("except", [.. except]));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime due
                ? new DateTimeOffset(due, TimeSpan.Zero)
                : (DateTimeOffset?)null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        return WriteAsync(attempt, static async (_, write, attempt, cancellationToken) =>
        {
            using var batch = write.Batch();
            batch.BatchCommands.Add(Statement(
                """
                WITH attempted AS (
                    UPDATE webhook_deliveries
                    SET attempts = attempts + 1, last_attempt_at = @attempted_at, last_status_code = @status_code, last_error = @error,
                        status = @status, next_attempt_at = @next_attempt_at, delivered_at = @delivered_at, lease_expires_at = NULL
                    WHERE delivery_id = @delivery_id AND status = 'pending'
                    RETURNING subscription_id
                )
                UPDATE webhook_subscriptions SET last_notified_at = @attempted_at
                WHERE @succeeded AND id = (SELECT subscription_id FROM attempted);
                """,
                ("attempted_at", attempt.AttemptedAt), ("status_code", Nullable(attempt.StatusCode)), ("error", Nullable(attempt.Error)),
                ("status", ConfigWrites.StatusAfter(attempt).ToWireName()),
                ("next_attempt_at", attempt.RetryAt is { } retryAt && !attempt.Succeeded ? retryAt : null),
                ("delivered_at", attempt.Succeeded ? attempt.AttemptedAt : null), ("delivery_id", attempt.DeliveryId),
                ("succeeded", attempt.Succeeded)));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<DeliveryPage> ListDeliveriesAsync(DeliveryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return ReadAsync(query, static async (connection, query, cancellationToken) =>
        {
            using var command = new NpgsqlCommand($"""
                SELECT {DeliveryColumns}, d.id FROM webhook_deliveries d
                WHERE d.subscription_id = @subscription_id AND d.id < @before AND (@status::text IS NULL OR d.status = @status)
                ORDER BY d.id DESC LIMIT @limit;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<string>("subscription_id", query.SubscriptionId));
            command.Parameters.Add(new NpgsqlParameter<long>("before", query.Before ?? long.MaxValue));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit + 1));
            command.Parameters.Add(new NpgsqlParameter("status", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)query.Status?.ToWireName() ?? DBNull.Value });
            var rows = await ReadAllAsync(command, static r => (Delivery: ReadDelivery(r), Position: r.GetInt64(16)), 16, cancellationToken)
                .ConfigureAwait(false);
            var more = rows.Count > query.Limit;
            if (more)
            {
                rows.RemoveAt(rows.Count - 1);
            }

            return new DeliveryPage(rows.ConvertAll(r => r.Delivery), more ? rows[^1].Position : null);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<WebhookDelivery?> RedeliverAsync(string subscriptionId, string deliveryId, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((subscriptionId, deliveryId, actor), static async (_, write, state, cancellationToken) =>
        {
            using var select = write.Command($"""
                SELECT {DeliveryColumns} FROM webhook_deliveries d
                WHERE d.subscription_id = @subscription_id AND d.delivery_id = @delivery_id
                FOR UPDATE;
                """);
            select.Parameters.Add(new NpgsqlParameter<string>("subscription_id", state.subscriptionId));
            select.Parameters.Add(new NpgsqlParameter<string>("delivery_id", state.deliveryId));
            var delivery = (await ReadAllAsync(select, ReadDelivery, 1, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            if (delivery is null)
            {
                return null;
            }

            var redelivered = delivery.Redelivered(write.Now);

            var change = delivery.Change;
            using var batch = write.Batch();
            batch.BatchCommands.Add(Statement(
                """
                UPDATE webhook_deliveries
                SET status = 'pending', attempts = 0, next_attempt_at = @now, lease_expires_at = NULL, last_error = NULL,
                    last_status_code = NULL, delivered_at = NULL
                WHERE delivery_id = @delivery_id;
                """,
                ("now", write.Now), ("delivery_id", state.deliveryId)));
            batch.BatchCommands.Add(AuditStatement(
                state.actor, WireNames.AuditActions.DeliveryRedeliver, delivery.Id, write.Now, change.Id.ServiceName, change.Id.Environment,
                revision: change.Revision));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return redelivered;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<int> PruneDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        WriteAsync(before, static async (_, write, before, cancellationToken) =>
        {
            using var delete = write.Command("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < @before;");
            delete.Parameters.Add(Parameter("before", before));
            return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    static WebhookSubscription ReadSubscription(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        ServiceName = r.GetString(1),
        Environment = r.GetString(2),
        Keys = r.GetFieldValue<string[]>(3),
        Url = r.GetString(4),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(5),
        CreatedBy = r.GetString(6),
        LastNotifiedAt = r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
    };

    static WebhookDelivery ReadDelivery(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        SubscriptionId = r.GetString(1),
        Change = new ChangeEvent(
            r.GetInt64(2),
            new ConfigId(r.GetString(3), r.GetString(4), r.GetString(5)),
            r.GetInt64(6),
            ChangeTypes.ParseStored(r.GetString(7)),
            r.GetFieldValue<DateTimeOffset>(8)),
        Status = DeliveryStatuses.ParseStored(r.GetString(9)),
        Attempts = r.GetInt32(10),
        NextAttemptAt = r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11),
        LastAttemptAt = r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12),
        LastError = r.IsDBNull(13) ? null : r.GetString(13),
        LastStatusCode = r.IsDBNull(14) ? null : r.GetInt32(14),
        DeliveredAt = r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15),
    };
}
