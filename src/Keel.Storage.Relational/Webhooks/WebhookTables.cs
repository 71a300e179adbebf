// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Storage.Relational.Audit;
using Keel.Storage.Relational.Encryption;

namespace Keel.Storage.Relational.Webhooks;

/// <summary>
/// Webhook subscriptions, with their signing secrets encrypted, and the outbox of deliveries that each change writes in its own
/// transaction. Only a subscription's oldest pending delivery is ever due, so that its deliveries arrive in commit order.
/// </summary>
sealed class WebhookTables(RelationalDatabase db, ValueReveal reveal) : IWebhookStore
{
    /// <summary>What a subscription's secret envelope is bound to, with the subscription's id.</summary>
    public const string SecretPurpose = "webhook";

    /// <summary>The insert of one pending delivery, for the write engines; bound by these names.</summary>
    public const string InsertDeliveryColumns = """
        INSERT INTO webhook_deliveries (delivery_id, subscription_id, revision, service_name, environment, config_key, version,
                                        change_type, changed_at, status, attempts, next_attempt_at, created_at)
        """;

    const string SubscriptionColumns = "id, service_name, environment, config_keys, webhook_url, created_at, created_by, last_notified_at";

    const string DeliveryColumns = """
        id, delivery_id, subscription_id, revision, service_name, environment, config_key, version, change_type, changed_at, status,
        attempts, next_attempt_at, last_attempt_at, last_error, last_status_code, delivered_at
        """;

    // Version 7: unique without coordination, and ordered by creation for anyone who sorts them.
    public static string NewDeliveryId(DateTimeOffset at) => Guid.CreateVersion7(at).ToString();

    /// <summary>The status an attempt leaves its delivery in.</summary>
    public static DeliveryStatus StatusAfter(DeliveryAttempt attempt) =>
        attempt.Succeeded ? DeliveryStatus.Delivered : attempt.RetryAt is null ? DeliveryStatus.Dead : DeliveryStatus.Pending;

    /// <inheritdoc/>
    public Task<WebhookSubscription> CreateSubscriptionAsync(NewWebhookSubscription subscription, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(actor);
        return db.WriteAsync((subscription, actor), static async (write, state, cancellationToken) =>
        {
            var s = state.subscription;
            await write.LockActiveKeyAsync(cancellationToken).ConfigureAwait(false);
            using (var insert = write.Sql($"""
                INSERT INTO webhook_subscriptions ({SubscriptionColumns}, secret, key_id)
                VALUES (@id, @service_name, @environment, @config_keys, @webhook_url, @created_at, @created_by, NULL, @secret, @key_id);
                """))
            {
                await insert.With("id", s.Id).With("service_name", s.ServiceName).With("environment", s.Environment)
                    .With("config_keys", write.Dialect.List(s.Keys)).With("webhook_url", s.Url).With("created_at", write.Now)
                    .With("created_by", state.actor.Name).With("secret", write.Ring.EncryptSecret(SecretPurpose, s.Id, s.Secret))
                    .With("key_id", write.Ring.ActiveKeyId)
                    .ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }

            await AuditLog.AppendAsync(
                write, state.actor, WireNames.AuditActions.SubscriptionCreate, s.Id, cancellationToken, s.ServiceName, s.Environment).ConfigureAwait(false);
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
        db.ReadAsync(serviceName, static async (session, serviceName, cancellationToken) =>
        {
            using var select = session.Sql(string.Empty);
            var filter = select.WithOptional("service_name", serviceName) ? " WHERE service_name = @service_name" : string.Empty;
            IReadOnlyList<WebhookSubscription> subscriptions = await select
                .Text($"SELECT {SubscriptionColumns} FROM webhook_subscriptions{filter} ORDER BY created_at, id;")
                .RowsAsync(ReadSubscription, cancellationToken, 8).ConfigureAwait(false);
            return subscriptions;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync(id, static async (session, id, cancellationToken) =>
        {
            using var select = session.Sql($"SELECT {SubscriptionColumns} FROM webhook_subscriptions WHERE id = @id;");
            return await select.With("id", id).FirstAsync(ReadSubscription, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<WebhookSubscription?> DeleteSubscriptionAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return db.WriteAsync((id, actor), static async (write, state, cancellationToken) =>
        {
            WebhookSubscription? deleted;
            using (var delete = write.Sql($"DELETE FROM webhook_subscriptions WHERE id = @id RETURNING {SubscriptionColumns};"))
            {
                deleted = await delete.With("id", state.id).FirstAsync(ReadSubscription, cancellationToken).ConfigureAwait(false);
            }

            if (deleted is not null)
            {
                await AuditLog.AppendAsync(
                    write, state.actor, WireNames.AuditActions.SubscriptionDelete, deleted.Id, cancellationToken, deleted.ServiceName,
                    deleted.Environment).ConfigureAwait(false);
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
        var (taken, targets) = await db.WriteAsync((now, lease, limit, exceptSubscriptions), static async (write, state, cancellationToken) =>
        {
            // Where nodes take at once, each skips the others' candidates instead of queueing on them; a candidate another node has
            // just leased and committed fails the lease check when its new row version is rechecked.
            List<WebhookDelivery> taken;
            using (var update = write.Sql($"""
                UPDATE webhook_deliveries SET lease_expires_at = @lease_until
                WHERE id IN (
                    SELECT d.id FROM webhook_deliveries d
                    WHERE {HeadOfSubscription(write.Dialect)}
                      AND d.next_attempt_at <= @now AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= @now)
                    ORDER BY d.next_attempt_at, d.id LIMIT @limit{write.Dialect.ForUpdateSkipLocked("d")})
                RETURNING {DeliveryColumns};
                """))
            {
                taken = await update.With("now", state.now).With("lease_until", state.now + state.lease).With("limit", state.limit)
                    .With("except", write.Dialect.List(state.exceptSubscriptions)).RowsAsync(ReadDelivery, cancellationToken).ConfigureAwait(false);
            }

            using var select = write.Sql($"SELECT id, webhook_url, secret FROM webhook_subscriptions WHERE {write.Dialect.InList("id", "@ids")};");
            var targets = await select.With("ids", write.Dialect.List(taken.Select(d => d.SubscriptionId).Distinct()))
                .RowsAsync(static (r, _) => (Id: r.GetString(0), Url: r.GetString(1), Secret: r.GetString(2)), cancellationToken).ConfigureAwait(false);
            return (taken, targets);
        }, cancellationToken).ConfigureAwait(false);

        taken.Sort(static (a, b) => (a.NextAttemptAt ?? default).CompareTo(b.NextAttemptAt ?? default));
        var due = new List<DueDelivery>(taken.Count);
        foreach (var delivery in taken)
        {
            var target = targets.Find(t => t.Id == delivery.SubscriptionId);
            var secret = await reveal.RevealSecretAsync(delivery.SubscriptionId, target.Secret, cancellationToken).ConfigureAwait(false);
            due.Add(new DueDelivery(delivery, target.Url, secret));
        }

        return due;
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextDueAsync(IReadOnlyCollection<string> exceptSubscriptions, CancellationToken cancellationToken) =>
        db.ReadAsync(exceptSubscriptions, static async (session, except, cancellationToken) =>
        {
            var d = session.Dialect;
            using var select = session.Sql($"""
                SELECT MIN({d.Greatest("d.next_attempt_at", "COALESCE(d.lease_expires_at, d.next_attempt_at)")}) AS due
                FROM webhook_deliveries d WHERE {HeadOfSubscription(d)};
                """);
            return await select.With("except", d.List(except)).FirstAsync(static (r, d) => r.GetTimeOrNull(d, "due"), cancellationToken)
                .ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public Task RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        return db.WriteAsync(attempt, static async (write, attempt, cancellationToken) =>
        {
            string? subscriptionId;
            using (var update = write.Sql("""
                UPDATE webhook_deliveries
                SET attempts = attempts + 1, last_attempt_at = @attempted_at, last_status_code = @status_code, last_error = @error,
                    status = @status, next_attempt_at = @next_attempt_at, delivered_at = @delivered_at, lease_expires_at = NULL
                WHERE delivery_id = @delivery_id AND status = 'pending'
                RETURNING subscription_id;
                """))
            {
                subscriptionId = await update.With("attempted_at", attempt.AttemptedAt).With("status_code", attempt.StatusCode)
                    .With("error", attempt.Error).With("status", StatusAfter(attempt).ToWireName())
                    .With("next_attempt_at", attempt.RetryAt is { } retryAt && !attempt.Succeeded ? retryAt : null)
                    .With("delivered_at", attempt.Succeeded ? attempt.AttemptedAt : null).With("delivery_id", attempt.DeliveryId)
                    .FirstAsync(static (r, _) => r.GetString(0), cancellationToken).ConfigureAwait(false);
            }

            if (subscriptionId is not null && attempt.Succeeded)
            {
                using var notified = write.Sql("UPDATE webhook_subscriptions SET last_notified_at = @at WHERE id = @id;");
                await notified.With("at", attempt.AttemptedAt).With("id", subscriptionId).ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<DeliveryPage> ListDeliveriesAsync(DeliveryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return db.ReadAsync(query, static async (session, query, cancellationToken) =>
        {
            using var select = session.Sql(string.Empty);
            var status = select.WithOptional("status", query.Status?.ToWireName()) ? " AND status = @status" : string.Empty;
            var rows = await select.With("subscription_id", query.SubscriptionId).With("before", query.Before ?? long.MaxValue).With("limit", query.Limit + 1)
                .Text($"""
                    SELECT {DeliveryColumns} FROM webhook_deliveries
                    WHERE subscription_id = @subscription_id AND id < @before{status}
                    ORDER BY id DESC LIMIT @limit;
                    """)
                .RowsAsync(static (r, d) => (Delivery: ReadDelivery(r, d), Position: r.GetInt64("id")), cancellationToken, 16).ConfigureAwait(false);
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
        return db.WriteAsync((subscriptionId, deliveryId, actor), static async (write, state, cancellationToken) =>
        {
            WebhookDelivery? delivery;
            using (var select = write.Sql($"""
                SELECT {DeliveryColumns} FROM webhook_deliveries
                WHERE subscription_id = @subscription_id AND delivery_id = @delivery_id{write.Dialect.ForUpdate()};
                """))
            {
                delivery = await select.With("subscription_id", state.subscriptionId).With("delivery_id", state.deliveryId)
                    .FirstAsync(ReadDelivery, cancellationToken).ConfigureAwait(false);
            }

            if (delivery is null)
            {
                return null;
            }

            using (var update = write.Sql("""
                UPDATE webhook_deliveries
                SET status = 'pending', attempts = 0, next_attempt_at = @now, lease_expires_at = NULL, last_error = NULL,
                    last_status_code = NULL, delivered_at = NULL
                WHERE delivery_id = @delivery_id;
                """))
            {
                await update.With("now", write.Now).With("delivery_id", state.deliveryId).ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }

            var change = delivery.Change;
            await AuditLog.AppendAsync(
                write, state.actor, WireNames.AuditActions.DeliveryRedeliver, delivery.Id, cancellationToken, change.Id.ServiceName,
                change.Id.Environment, revision: change.Revision).ConfigureAwait(false);
            return delivery.Redelivered(write.Now);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<int> PruneDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        db.WriteAsync(before, static async (write, before, cancellationToken) =>
        {
            using var delete = write.Sql("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < @before;");
            return await delete.With("before", before).ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Each subscription's oldest pending delivery; only it can be due, so that a subscription's deliveries keep order.</summary>
    static string HeadOfSubscription(SqlDialect dialect) => $"""
        d.status = 'pending'
        AND d.id = (SELECT MIN(e.id) FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id AND e.status = 'pending')
        AND NOT ({dialect.InList("d.subscription_id", "@except")})
        """;

    static WebhookSubscription ReadSubscription(DbDataReader r, SqlDialect d) => new()
    {
        Id = r.GetString("id"),
        ServiceName = r.GetString("service_name"),
        Environment = r.GetString("environment"),
        Keys = d.ReadList(r, r.GetOrdinal("config_keys")),
        Url = r.GetString("webhook_url"),
        CreatedAt = r.GetTime(d, "created_at"),
        CreatedBy = r.GetString("created_by"),
        LastNotifiedAt = r.GetTimeOrNull(d, "last_notified_at"),
    };

    static WebhookDelivery ReadDelivery(DbDataReader r, SqlDialect d) => new()
    {
        Id = r.GetString("delivery_id"),
        SubscriptionId = r.GetString("subscription_id"),
        Change = new ChangeEvent(
            r.GetInt64("revision"),
            new ConfigId(r.GetString("service_name"), r.GetString("environment"), r.GetString("config_key")),
            r.GetInt64("version"),
            ChangeTypes.ParseStored(r.GetString("change_type")),
            r.GetTime(d, "changed_at")),
        Status = DeliveryStatuses.ParseStored(r.GetString("status")),
        Attempts = r.GetInt32(r.GetOrdinal("attempts")),
        NextAttemptAt = r.GetTimeOrNull(d, "next_attempt_at"),
        LastAttemptAt = r.GetTimeOrNull(d, "last_attempt_at"),
        LastError = r.GetStringOrNull("last_error"),
        LastStatusCode = r.GetInt32OrNull("last_status_code"),
        DeliveredAt = r.GetTimeOrNull(d, "delivered_at"),
    };
}
