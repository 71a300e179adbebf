// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Core.Webhooks;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// Webhook subscriptions and the outbox as every backend must keep them: a delivery written with each matching change, handed
/// out oldest first per subscription, retried, dead, redelivered. The fixture's store implements <see cref="IWebhookStore"/>.
/// </summary>
public abstract class WebhookStoreSpecification<TFixture>(TFixture fixture) : StoreSpecification<TFixture>(fixture)
    where TFixture : class, IConfigStoreFixture
{
    protected IWebhookStore Webhooks => Fixture.Store.Webhooks;

    [Fact]
    public virtual async Task Subscription_IsCreatedListedAndDeleted_WithAuditRecords()
    {
        var service = Service();
        var created = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["a", "b.*"]), TestIdentities.Tester, Ct);

        Assert.Equal(["a", "b.*"], created.Keys);
        Assert.Equal("tester", created.CreatedBy);
        Assert.Null(created.LastNotifiedAt);
        Assert.Equal(created, await Webhooks.GetSubscriptionAsync(created.Id, Ct), SubscriptionComparer.Instance);
        Assert.Equal([created.Id], (await Webhooks.ListSubscriptionsAsync(service, Ct)).Select(s => s.Id));
        Assert.Contains(created.Id, (await Webhooks.ListSubscriptionsAsync(null, Ct)).Select(s => s.Id));

        var deleted = await Webhooks.DeleteSubscriptionAsync(created.Id, TestIdentities.Tester, Ct);

        Assert.Equal(created.Id, deleted?.Id);
        Assert.Null(await Webhooks.GetSubscriptionAsync(created.Id, Ct));
        Assert.Null(await Webhooks.DeleteSubscriptionAsync(created.Id, TestIdentities.Tester, Ct));
        var audit = await Fixture.Store.Audit.QueryAuditAsync(new AuditQuery { ServiceName = service }, Ct);
        Assert.Equal(
            [WireNames.AuditActions.SubscriptionDelete, WireNames.AuditActions.SubscriptionCreate],
            audit.Select(r => r.Action));
        Assert.All(audit, r => Assert.Equal(created.Id, r.Target));
    }

    [Fact]
    public virtual async Task Change_ToAMatchingKey_WritesOneDeliveryDueNow()
    {
        var service = Service();
        var exact = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["db.url"]), TestIdentities.Tester, Ct);
        var prefix = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["db.*"]), TestIdentities.Tester, Ct);
        var all = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        var otherEnvironment = await Webhooks.CreateSubscriptionAsync(
            NewSubscription(service, ["*"]) with { Environment = "prod" }, TestIdentities.Tester, Ct);

        var change = await PutAsync(new ConfigId(service, "dev", "db.url"), "v");
        await PutAsync(new ConfigId(service, "dev", "cache.size"), "v");

        var exactDeliveries = await DeliveriesAsync(exact.Id);
        var delivery = Assert.Single(exactDeliveries);
        Assert.Equal(DeliveryStatus.Pending, delivery.Status);
        Assert.Equal(0, delivery.Attempts);
        Assert.Equal(change.Revision, delivery.Change.Revision);
        Assert.Equal(change.Id, delivery.Change.Id);
        Assert.Equal(1, delivery.Change.Version);
        Assert.Equal(ChangeType.Create, delivery.Change.ChangeType);
        Assert.Equal(change.Timestamp, delivery.Change.Timestamp);
        Assert.Single(await DeliveriesAsync(prefix.Id));
        Assert.Equal(2, (await DeliveriesAsync(all.Id)).Count);
        Assert.Empty(await DeliveriesAsync(otherEnvironment.Id));

        var due = await DueAsync(exact.Id);
        Assert.Equal(delivery.Id, Assert.Single(due).Delivery.Id);
        Assert.Equal("https://hooks.example.com/keel", due[0].Url);
        Assert.Equal("whsec-" + exact.Id, due[0].Secret);
    }

    [Fact]
    public virtual async Task Due_HandsOutOnlyTheOldestPendingDeliveryOfASubscription()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        var first = await PutAsync(new ConfigId(service, "dev", "k"), "1");
        var second = await PutAsync(new ConfigId(service, "dev", "k"), "2");

        var due = Assert.Single(await DueAsync(subscription.Id));
        Assert.Equal(first.Revision, due.Delivery.Change.Revision);
        Assert.Empty(await DueAsync(subscription.Id, except: [subscription.Id]));

        await Webhooks.RecordAttemptAsync(Succeeded(due.Delivery.Id), Ct);

        var next = Assert.Single(await DueAsync(subscription.Id));
        Assert.Equal(second.Revision, next.Delivery.Change.Revision);
    }

    [Fact]
    public virtual async Task Take_LeasesTheDelivery_UntilTheLeaseEnds_ThenHandsItOutAgain()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "k"), "1");
        await PutAsync(new ConfigId(service, "dev", "k"), "2");
        var taken = Assert.Single(await DueAsync(subscription.Id)).Delivery;
        var leaseEnd = Fixture.Time.GetUtcNow() + Lease;

        // Neither the leased delivery nor the one behind it goes to anyone else while the lease holds.
        Assert.Empty(await DueAsync(subscription.Id));
        var others = (await Webhooks.ListSubscriptionsAsync(null, Ct)).Select(s => s.Id).Where(id => id != subscription.Id).ToList();
        Assert.Equal(leaseEnd, await Webhooks.GetNextDueAsync(others, Ct));
        Fixture.Time.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.Empty(await DueAsync(subscription.Id));

        // The taker died: once the lease ends, the same delivery goes out again.
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        var again = Assert.Single(await DueAsync(subscription.Id)).Delivery;
        Assert.Equal(taken.Id, again.Id);
        Assert.Equal(0, again.Attempts);
    }

    [Fact]
    public virtual async Task Take_FromSeveralStoresAtOnce_HandsEachDeliveryToExactlyOne()
    {
        var service = Service();
        List<string> subscriptions = [];
        for (var i = 0; i < 12; i++)
        {
            var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, [$"k{i}"]), TestIdentities.Tester, Ct);
            subscriptions.Add(subscription.Id);
            await PutAsync(new ConfigId(service, "dev", $"k{i}"), "1");
        }

        List<IWebhookStore> stores = [Webhooks];
        List<IKeelStore> others = [];
        for (var i = 0; i < 2; i++)
        {
            others.Add(await Fixture.OpenAnotherAsync());
            stores.Add(others[^1].Webhooks);
        }

        try
        {
            var now = Fixture.Time.GetUtcNow();
            var takes = await Task.WhenAll(stores.Select(store => Task.Run(async () =>
            {
                List<DueDelivery> mine = [];
                for (var round = 0; round < 12; round++)
                {
                    mine.AddRange(await store.TakeDueDeliveriesAsync(now, Lease, 2, [], Ct));
                }

                return mine;
            }, Ct)));

            var taken = takes.SelectMany(t => t).Where(d => subscriptions.Contains(d.Delivery.SubscriptionId)).Select(d => d.Delivery.Id).ToList();
            Assert.Equal(subscriptions.Count, taken.Count);
            Assert.Equal(taken.Count, taken.Distinct().Count());
        }
        finally
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Fact]
    public virtual async Task FailedAttempt_WaitsForItsRetry_AndHoldsBackLaterDeliveries()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "k"), "1");
        await PutAsync(new ConfigId(service, "dev", "k"), "2");
        var first = Assert.Single(await DueAsync(subscription.Id)).Delivery;
        var retryAt = Fixture.Time.GetUtcNow().AddMinutes(1);

        await Webhooks.RecordAttemptAsync(Failed(first.Id, retryAt, 503), Ct);

        Assert.Empty(await DueAsync(subscription.Id));
        Assert.True(await Webhooks.GetNextDueAsync([], Ct) <= retryAt);
        var stored = (await DeliveriesAsync(subscription.Id)).Single(d => d.Id == first.Id);
        Assert.Equal(DeliveryStatus.Pending, stored.Status);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal(503, stored.LastStatusCode);
        Assert.Equal("HTTP 503", stored.LastError);
        Assert.Equal(retryAt, stored.NextAttemptAt);

        Fixture.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(first.Id, Assert.Single(await DueAsync(subscription.Id)).Delivery.Id);
    }

    [Fact]
    public virtual async Task FailedAttempt_WithoutRetry_IsDead_AndTheNextDeliveryGoesOn()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "k"), "1");
        var second = await PutAsync(new ConfigId(service, "dev", "k"), "2");
        var first = Assert.Single(await DueAsync(subscription.Id)).Delivery;

        await Webhooks.RecordAttemptAsync(Failed(first.Id, retryAt: null, statusCode: null, error: "connection refused"), Ct);

        var dead = Assert.Single((await Webhooks.ListDeliveriesAsync(Deliveries(subscription.Id) with { Status = DeliveryStatus.Dead }, Ct)).Deliveries);
        Assert.Equal(first.Id, dead.Id);
        Assert.Equal("connection refused", dead.LastError);
        Assert.Null(dead.NextAttemptAt);
        Assert.Equal(second.Revision, Assert.Single(await DueAsync(subscription.Id)).Delivery.Change.Revision);
    }

    [Fact]
    public virtual async Task SuccessfulAttempt_IsDelivered_AndSetsLastNotifiedAt()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "k"), "1");
        var delivery = Assert.Single(await DueAsync(subscription.Id)).Delivery;
        Fixture.Time.Advance(TimeSpan.FromSeconds(3));
        var at = Fixture.Time.GetUtcNow();

        await Webhooks.RecordAttemptAsync(Succeeded(delivery.Id) with { AttemptedAt = at }, Ct);
        await Webhooks.RecordAttemptAsync(Failed(delivery.Id, at.AddMinutes(1), 500), Ct);

        var stored = Assert.Single(await DeliveriesAsync(subscription.Id));
        Assert.Equal(DeliveryStatus.Delivered, stored.Status);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal(at, stored.DeliveredAt);
        Assert.Equal(at, (await Webhooks.GetSubscriptionAsync(subscription.Id, Ct))!.LastNotifiedAt);
        Assert.Empty(await DueAsync(subscription.Id));
    }

    [Fact]
    public virtual async Task Redeliver_MakesADeadDeliveryPendingAgain_AndRefusesAPendingOne()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "k"), "1");
        var delivery = Assert.Single(await DueAsync(subscription.Id)).Delivery;

        var pending = await Assert.ThrowsAsync<KeelException>(
            () => Webhooks.RedeliverAsync(subscription.Id, delivery.Id, TestIdentities.Tester, Ct));
        Assert.Equal(KeelError.DeliveryPending, pending.Error);

        await Webhooks.RecordAttemptAsync(Failed(delivery.Id, retryAt: null, 500), Ct);
        var redelivered = await Webhooks.RedeliverAsync(subscription.Id, delivery.Id, TestIdentities.Tester, Ct);

        Assert.Equal(DeliveryStatus.Pending, redelivered?.Status);
        Assert.Equal(0, redelivered?.Attempts);
        var stored = Assert.Single(await DeliveriesAsync(subscription.Id));
        Assert.Equal(DeliveryStatus.Pending, stored.Status);
        Assert.Null(stored.LastError);
        Assert.Equal(delivery.Id, Assert.Single(await DueAsync(subscription.Id)).Delivery.Id);
        Assert.Null(await Webhooks.RedeliverAsync(subscription.Id, "no-such-delivery", TestIdentities.Tester, Ct));
        Assert.Null(await Webhooks.RedeliverAsync("no-such-subscription", delivery.Id, TestIdentities.Tester, Ct));
        var audit = await Fixture.Store.Audit.QueryAuditAsync(
            new AuditQuery { ServiceName = service, Action = WireNames.AuditActions.DeliveryRedeliver }, Ct);
        Assert.Equal(delivery.Id, Assert.Single(audit).Target);
    }

    [Fact]
    public virtual async Task Deliveries_ArePagedNewestFirst()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        List<long> revisions = [];
        for (var i = 0; i < 5; i++)
        {
            revisions.Add((await PutAsync(new ConfigId(service, "dev", "k"), $"{i}")).Revision);
        }

        var first = await Webhooks.ListDeliveriesAsync(Deliveries(subscription.Id) with { Limit = 3 }, Ct);
        var second = await Webhooks.ListDeliveriesAsync(Deliveries(subscription.Id) with { Limit = 3, Before = first.Next }, Ct);

        Assert.NotNull(first.Next);
        Assert.Null(second.Next);
        Assert.Equal(
            revisions.AsEnumerable().Reverse(),
            first.Deliveries.Concat(second.Deliveries).Select(d => d.Change.Revision));
    }

    [Fact]
    public virtual async Task DeletingASubscription_DeletesItsDeliveries()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "k"), "1");

        await Webhooks.DeleteSubscriptionAsync(subscription.Id, TestIdentities.Tester, Ct);

        Assert.Empty(await DueAsync(subscription.Id));
        Assert.Empty(await DeliveriesAsync(subscription.Id));
    }

    [Fact]
    public virtual async Task Outbox_SurvivesARestart_AndTheSecretAKeyRotation()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        var change = await PutAsync(new ConfigId(service, "dev", "k"), "1");

        await Fixture.Store.Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct);
        await Fixture.ReopenAsync();

        var due = Assert.Single(await DueAsync(subscription.Id));
        Assert.Equal(change.Revision, due.Delivery.Change.Revision);
        Assert.Equal("whsec-" + subscription.Id, due.Secret);
    }

    [Fact]
    public virtual async Task Prune_RemovesFinishedDeliveriesBeforeTheCutoff_AndKeepsPendingOnes()
    {
        var service = Service();
        var subscription = await Webhooks.CreateSubscriptionAsync(NewSubscription(service, ["*"]), TestIdentities.Tester, Ct);
        await PutAsync(new ConfigId(service, "dev", "a"), "1");
        await PutAsync(new ConfigId(service, "dev", "b"), "1");
        var delivered = Assert.Single(await DueAsync(subscription.Id)).Delivery;
        await Webhooks.RecordAttemptAsync(Succeeded(delivered.Id), Ct);
        Fixture.Time.Advance(TimeSpan.FromMinutes(1));

        var pruned = await Webhooks.PruneDeliveriesAsync(Fixture.Time.GetUtcNow(), Ct);

        Assert.True(pruned >= 1);
        var left = Assert.Single(await DeliveriesAsync(subscription.Id));
        Assert.Equal(DeliveryStatus.Pending, left.Status);
    }

    protected static NewWebhookSubscription NewSubscription(string service, IReadOnlyList<string> keys)
    {
        var id = "sub-" + Guid.NewGuid().ToString("N");
        return new()
        {
            Id = id,
            ServiceName = service,
            Environment = "dev",
            Keys = keys,
            Url = "https://hooks.example.com/keel",
            Secret = "whsec-" + id,
        };
    }

    async Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(string subscriptionId) =>
        (await Webhooks.ListDeliveriesAsync(Deliveries(subscriptionId), Ct)).Deliveries;

    async Task<List<DueDelivery>> DueAsync(string subscriptionId, IReadOnlyCollection<string>? except = null) =>
        [.. (await Webhooks.TakeDueDeliveriesAsync(Fixture.Time.GetUtcNow(), Lease, 1000, except ?? [], Ct))
            .Where(d => d.Delivery.SubscriptionId == subscriptionId)];

    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    static DeliveryQuery Deliveries(string subscriptionId) => new() { SubscriptionId = subscriptionId, Limit = 100 };

    DeliveryAttempt Succeeded(string deliveryId) =>
        new() { DeliveryId = deliveryId, AttemptedAt = Fixture.Time.GetUtcNow(), Succeeded = true, StatusCode = 200 };

    DeliveryAttempt Failed(string deliveryId, DateTimeOffset? retryAt, int? statusCode, string? error = null) => new()
    {
        DeliveryId = deliveryId,
        AttemptedAt = Fixture.Time.GetUtcNow(),
        Succeeded = false,
        StatusCode = statusCode,
        Error = error ?? $"HTTP {statusCode}",
        RetryAt = retryAt,
    };

    sealed class SubscriptionComparer : IEqualityComparer<WebhookSubscription>
    {
        public static SubscriptionComparer Instance { get; } = new();

        public bool Equals(WebhookSubscription? x, WebhookSubscription? y) =>
            x is not null && y is not null && x.Id == y.Id && x.ServiceName == y.ServiceName && x.Environment == y.Environment
            && x.Keys.SequenceEqual(y.Keys) && x.Url == y.Url && x.CreatedAt == y.CreatedAt && x.CreatedBy == y.CreatedBy
            && x.LastNotifiedAt == y.LastNotifiedAt;

        public int GetHashCode(WebhookSubscription obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
