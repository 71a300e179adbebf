// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Webhooks;

namespace Keel.Core.Storage;

/// <summary>
/// Webhook subscriptions and their outbox. A store writes a delivery for every matching subscription in the transaction of each
/// change, so that a change that commits is delivered even if the process dies before it is sent.
/// </summary>
public interface IWebhookStore
{
    /// <summary>Creates a subscription, with a <c>subscription.create</c> audit record.</summary>
    /// <param name="subscription">The subscription, its secret in plaintext (stored encrypted).</param>
    /// <param name="actor">Who creates it.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    Task<WebhookSubscription> CreateSubscriptionAsync(NewWebhookSubscription subscription, Actor actor, CancellationToken cancellationToken);

    /// <summary>The subscriptions, oldest first, of one service when <paramref name="serviceName"/> is set.</summary>
    /// <param name="serviceName">Only this service's, when set.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(string? serviceName, CancellationToken cancellationToken);

    /// <summary>A subscription, or <see langword="null"/> when none has the id.</summary>
    /// <param name="id">The id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes a subscription and its deliveries, with a <c>subscription.delete</c> audit record.</summary>
    /// <param name="id">The id.</param>
    /// <param name="actor">Who deletes it.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <returns>The deleted subscription, or <see langword="null"/> when none had the id (nothing is recorded).</returns>
    Task<WebhookSubscription?> DeleteSubscriptionAsync(string id, Actor actor, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the pending deliveries due at <paramref name="now"/>, at most one per subscription: each subscription's oldest pending
    /// one, so that a subscription's deliveries go out in order. Each is leased to the caller until <paramref name="now"/> +
    /// <paramref name="lease"/>: no caller, in this process or another on the same store, is handed it again before the lease
    /// ends or its attempt is recorded, and none is handed a later delivery of its subscription meanwhile. A caller that dies
    /// mid-delivery therefore leaves the delivery to another once the lease ends.
    /// </summary>
    /// <param name="now">The time.</param>
    /// <param name="lease">How long the caller holds what it takes; longer than an attempt can last.</param>
    /// <param name="limit">The most deliveries to take.</param>
    /// <param name="exceptSubscriptions">Subscriptions to leave out (those with a delivery in flight).</param>
    /// <param name="cancellationToken">Cancels the take.</param>
    Task<IReadOnlyList<DueDelivery>> TakeDueDeliveriesAsync(
        DateTimeOffset now, TimeSpan lease, int limit, IReadOnlyCollection<string> exceptSubscriptions, CancellationToken cancellationToken);

    /// <summary>
    /// When the next delivery <see cref="TakeDueDeliveriesAsync"/> would hand out is due (or its lease ends, if later), or
    /// <see langword="null"/> when none is pending.
    /// </summary>
    /// <param name="exceptSubscriptions">Subscriptions to leave out (those with a delivery in flight).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<DateTimeOffset?> GetNextDueAsync(IReadOnlyCollection<string> exceptSubscriptions, CancellationToken cancellationToken);

    /// <summary>
    /// Records an attempt, delivered, retried later, or dead, and ends the delivery's lease. A delivery no longer pending is left as
    /// it is.
    /// </summary>
    /// <param name="attempt">The attempt.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    Task RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken);

    /// <summary>A page of one subscription's deliveries, newest first.</summary>
    /// <param name="query">Which deliveries.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<DeliveryPage> ListDeliveriesAsync(DeliveryQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a dead or delivered delivery pending again, due now, with its attempts reset; audited as
    /// <c>delivery.redeliver</c>.
    /// </summary>
    /// <param name="subscriptionId">The subscription.</param>
    /// <param name="deliveryId">The delivery.</param>
    /// <param name="actor">Who asks.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <returns>The delivery as it now is, or <see langword="null"/> when the subscription has no such delivery.</returns>
    /// <exception cref="KeelException">The delivery is still pending (<see cref="KeelError.DeliveryPending"/>).</exception>
    Task<WebhookDelivery?> RedeliverAsync(string subscriptionId, string deliveryId, Actor actor, CancellationToken cancellationToken);

    /// <summary>Removes delivered and dead deliveries created before <paramref name="before"/>.</summary>
    /// <param name="before">The cut-off.</param>
    /// <param name="cancellationToken">Cancels the change if it has not committed.</param>
    /// <returns>How many were removed.</returns>
    Task<int> PruneDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
