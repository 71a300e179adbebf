// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Microsoft.Data.Sqlite;

namespace Keel.Storage.Sqlite;

public sealed partial class SqliteConfigStore
{
    /// <summary>What a subscription's secret envelope is bound to, with the subscription's id.</summary>
    const string WebhookSecretPurpose = "webhook";

    const string SubscriptionColumns =
        "id, service_name, environment, config_keys, webhook_url, created_at, created_by, last_notified_at";

    /// <summary>Each subscription's oldest pending delivery; only it can be due, so that a subscription's deliveries keep order.</summary>
    const string HeadOfSubscription = """
        d.status = 'pending'
        AND d.id = (SELECT MIN(e.id) FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id AND e.status = 'pending')
        AND d.subscription_id NOT IN (SELECT value FROM json_each($except))
        """;

    const string DeliveryColumns = """
        d.delivery_id, d.subscription_id, d.revision, d.service_name, d.environment, d.config_key, d.version, d.change_type,
        d.changed_at, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_error, d.last_status_code, d.delivered_at
        """;

    /// <inheritdoc/>
    public Task<WebhookSubscription> CreateSubscriptionAsync(
        NewWebhookSubscription subscription, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((subscription, actor), static (writer, state, now) =>
        {
            var s = state.subscription;
            using (var insert = writer.Command($"""
                INSERT INTO webhook_subscriptions ({SubscriptionColumns}, secret, key_id)
                VALUES ($id, $service_name, $environment, $config_keys, $webhook_url, $created_at, $created_by, NULL, $secret, $key_id);
                """))
            {
                var p = insert.Parameters;
                p.AddWithValue("$id", s.Id);
                p.AddWithValue("$service_name", s.ServiceName);
                p.AddWithValue("$environment", s.Environment);
                p.AddWithValue("$config_keys", JsonSerializer.Serialize(s.Keys, SqliteJson.Default.IReadOnlyListString));
                p.AddWithValue("$webhook_url", s.Url);
                p.AddWithValue("$created_at", ToUnixMicroseconds(now));
                p.AddWithValue("$created_by", state.actor.Name);
                p.AddWithValue("$secret", writer.Ring.EncryptSecret(WebhookSecretPurpose, s.Id, s.Secret));
                p.AddWithValue("$key_id", writer.Ring.ActiveKeyId);
                insert.ExecuteNonQuery();
            }

            writer.Audit(state.actor, WireNames.AuditActions.SubscriptionCreate, s.Id, now, s.ServiceName, s.Environment);
            return new WebhookSubscription
            {
                Id = s.Id,
                ServiceName = s.ServiceName,
                Environment = s.Environment,
                Keys = s.Keys,
                Url = s.Url,
                CreatedAt = now,
                CreatedBy = state.actor.Name,
            };
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(string? serviceName, CancellationToken cancellationToken) =>
        ReadAsync(serviceName, static async (connection, serviceName, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = serviceName is null
                ? $"SELECT {SubscriptionColumns} FROM webhook_subscriptions ORDER BY created_at, id;"
                : $"SELECT {SubscriptionColumns} FROM webhook_subscriptions WHERE service_name = $service_name ORDER BY created_at, id;";
            if (serviceName is not null)
            {
                command.Parameters.AddWithValue("$service_name", serviceName);
            }

            IReadOnlyList<WebhookSubscription> subscriptions =
                await ReadAllAsync(command, ReadSubscription, 8, cancellationToken).ConfigureAwait(false);
            return subscriptions;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(id, static async (connection, id, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {SubscriptionColumns} FROM webhook_subscriptions WHERE id = $id;";
            command.Parameters.AddWithValue("$id", id);
            var rows = await ReadAllAsync(command, ReadSubscription, 1, cancellationToken).ConfigureAwait(false);
            return rows.Count == 0 ? null : rows[0];
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<WebhookSubscription?> DeleteSubscriptionAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((id, actor), static (writer, state, now) =>
        {
            WebhookSubscription? deleted;
            using (var delete = writer.Command($"DELETE FROM webhook_subscriptions WHERE id = $id RETURNING {SubscriptionColumns};"))
            {
                delete.Parameters.AddWithValue("$id", state.id);
                using var reader = delete.ExecuteReader();
                deleted = reader.Read() ? ReadSubscription(reader) : null;
            }

            if (deleted is not null)
            {
                writer.Audit(state.actor, WireNames.AuditActions.SubscriptionDelete, deleted.Id, now, deleted.ServiceName, deleted.Environment);
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
        var rows = await WriteAsync((now, lease, limit, exceptSubscriptions), static (writer, state, _) =>
        {
            using var command = writer.Command($"""
                UPDATE webhook_deliveries SET lease_expires_at = $lease_until
                WHERE id IN (
                    SELECT d.id FROM webhook_deliveries d
                    WHERE {HeadOfSubscription}
                      AND d.next_attempt_at <= $now AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $now)
                    ORDER BY d.next_attempt_at, d.id LIMIT $limit)
                RETURNING id;
                """);
            command.Parameters.AddWithValue("$now", ToUnixMicroseconds(state.now));
            command.Parameters.AddWithValue("$lease_until", ToUnixMicroseconds(state.now + state.lease));
            command.Parameters.AddWithValue("$except", ToJsonArray(state.exceptSubscriptions));
            command.Parameters.AddWithValue("$limit", state.limit);
            List<long> taken = [];
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    taken.Add(reader.GetInt64(0));
                }
            }

            using var select = writer.Command($"""
                SELECT {DeliveryColumns}, s.webhook_url, s.secret
                FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
                WHERE d.id IN (SELECT value FROM json_each($ids))
                ORDER BY d.next_attempt_at, d.id;
                """);
            select.Parameters.AddWithValue("$ids", "[" + string.Join(',', taken) + "]");
            List<(WebhookDelivery Delivery, string Url, string Secret)> rows = [];
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add((ReadDelivery(reader), reader.GetString(16), reader.GetString(17)));
                }
            }

            return rows;
        }, cancellationToken).ConfigureAwait(false);

        return rows.ConvertAll(row =>
        {
            var status = _ring!.TryDecryptSecret(WebhookSecretPurpose, row.Delivery.SubscriptionId, row.Secret, out var secret);
            if (status != DecryptionStatus.Ok)
            {
                Log.WebhookSecretDecryptionFailed(_logger, row.Delivery.SubscriptionId, status);
            }

            return new DueDelivery(row.Delivery, row.Url, secret);
        });
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextDueAsync(IReadOnlyCollection<string> exceptSubscriptions, CancellationToken cancellationToken) =>
        ReadAsync(exceptSubscriptions, static async (connection, except, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT MIN(MAX(d.next_attempt_at, COALESCE(d.lease_expires_at, d.next_attempt_at))) FROM webhook_deliveries d
                WHERE {HeadOfSubscription};
                """;
            command.Parameters.AddWithValue("$except", ToJsonArray(except));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long due
                ? FromUnixMicroseconds(due)
                : (DateTimeOffset?)null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        return WriteAsync(attempt, static (writer, attempt, _) =>
        {
            var attemptedAt = ToUnixMicroseconds(attempt.AttemptedAt);
            using (var update = writer.Command("""
                UPDATE webhook_deliveries
                SET attempts = attempts + 1, last_attempt_at = $attempted_at, last_status_code = $status_code, last_error = $error,
                    status = $status, next_attempt_at = $next_attempt_at, delivered_at = $delivered_at,
                    lease_expires_at = NULL
                WHERE delivery_id = $delivery_id AND status = 'pending'
                RETURNING subscription_id;
                """))
            {
                var status = ConfigWrites.StatusAfter(attempt);
                var p = update.Parameters;
                p.AddWithValue("$attempted_at", attemptedAt);
                p.AddWithValue("$status_code", (object?)attempt.StatusCode ?? DBNull.Value);
                p.AddWithValue("$error", (object?)attempt.Error ?? DBNull.Value);
                p.AddWithValue("$status", status.ToWireName());
                p.AddWithValue("$next_attempt_at", attempt.RetryAt is { } retryAt && !attempt.Succeeded ? ToUnixMicroseconds(retryAt) : DBNull.Value);
                p.AddWithValue("$delivered_at", attempt.Succeeded ? attemptedAt : DBNull.Value);
                p.AddWithValue("$delivery_id", attempt.DeliveryId);
                if (update.ExecuteScalar() is string subscriptionId && attempt.Succeeded)
                {
                    using var notified = writer.Command("UPDATE webhook_subscriptions SET last_notified_at = $at WHERE id = $id;");
                    notified.Parameters.AddWithValue("$at", attemptedAt);
                    notified.Parameters.AddWithValue("$id", subscriptionId);
                    notified.ExecuteNonQuery();
                }
            }

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
            using var command = connection.CreateCommand();
            var status = query.Status is null ? string.Empty : " AND d.status = $status";
            command.CommandText = $"""
                SELECT {DeliveryColumns}, d.id FROM webhook_deliveries d
                WHERE d.subscription_id = $subscription_id AND d.id < $before{status}
                ORDER BY d.id DESC LIMIT $limit;
                """;
            command.Parameters.AddWithValue("$subscription_id", query.SubscriptionId);
            command.Parameters.AddWithValue("$before", query.Before ?? long.MaxValue);
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            if (query.Status is { } wanted)
            {
                command.Parameters.AddWithValue("$status", wanted.ToWireName());
            }

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
        return WriteAsync((subscriptionId, deliveryId, actor), static (writer, state, now) =>
        {
            using var select = writer.Command($"""
                SELECT {DeliveryColumns} FROM webhook_deliveries d WHERE d.subscription_id = $subscription_id AND d.delivery_id = $delivery_id;
                """);
            select.Parameters.AddWithValue("$subscription_id", state.subscriptionId);
            select.Parameters.AddWithValue("$delivery_id", state.deliveryId);
            WebhookDelivery? delivery;
            using (var reader = select.ExecuteReader())
            {
                delivery = reader.Read() ? ReadDelivery(reader) : null;
            }

            if (delivery is null)
            {
                return null;
            }

            var redelivered = delivery.Redelivered(now);

            using (var update = writer.Command("""
                UPDATE webhook_deliveries
                SET status = 'pending', attempts = 0, next_attempt_at = $now, lease_expires_at = NULL, last_error = NULL, last_status_code = NULL,
                    delivered_at = NULL
                WHERE delivery_id = $delivery_id;
                """))
            {
                update.Parameters.AddWithValue("$now", ToUnixMicroseconds(now));
                update.Parameters.AddWithValue("$delivery_id", state.deliveryId);
                update.ExecuteNonQuery();
            }

            var change = delivery.Change;
            writer.Audit(
                state.actor, WireNames.AuditActions.DeliveryRedeliver, delivery.Id, now, change.Id.ServiceName, change.Id.Environment,
                revision: change.Revision);
            return redelivered;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<int> PruneDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        WriteAsync(before, static (writer, before, _) =>
        {
            using var delete = writer.Command("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $before;");
            delete.Parameters.AddWithValue("$before", ToUnixMicroseconds(before));
            return delete.ExecuteNonQuery();
        }, cancellationToken);

    static WebhookSubscription ReadSubscription(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        ServiceName = r.GetString(1),
        Environment = r.GetString(2),
        Keys = ParseKeyPatterns(r.GetString(3)),
        Url = r.GetString(4),
        CreatedAt = FromUnixMicroseconds(r.GetInt64(5)),
        CreatedBy = r.GetString(6),
        LastNotifiedAt = r.IsDBNull(7) ? null : FromUnixMicroseconds(r.GetInt64(7)),
    };

    static WebhookDelivery ReadDelivery(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        SubscriptionId = r.GetString(1),
        Change = new ChangeEvent(
            r.GetInt64(2),
            new ConfigId(r.GetString(3), r.GetString(4), r.GetString(5)),
            r.GetInt64(6),
            ChangeTypes.ParseStored(r.GetString(7)),
            FromUnixMicroseconds(r.GetInt64(8))),
        Status = DeliveryStatuses.ParseStored(r.GetString(9)),
        Attempts = r.GetInt32(10),
        NextAttemptAt = r.IsDBNull(11) ? null : FromUnixMicroseconds(r.GetInt64(11)),
        LastAttemptAt = r.IsDBNull(12) ? null : FromUnixMicroseconds(r.GetInt64(12)),
        LastError = r.IsDBNull(13) ? null : r.GetString(13),
        LastStatusCode = r.IsDBNull(14) ? null : r.GetInt32(14),
        DeliveredAt = r.IsDBNull(15) ? null : FromUnixMicroseconds(r.GetInt64(15)),
    };

    static IReadOnlyList<string> ParseKeyPatterns(string json) =>
        JsonSerializer.Deserialize(json, SqliteJson.Default.IReadOnlyListString) ?? [];

    // Version 7: unique without coordination, and ordered by creation for anyone who sorts them.
    static string NewDeliveryId(DateTimeOffset at) => Guid.CreateVersion7(at).ToString();
}
