// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Flags;
using Keel.Core.Webhooks;

namespace Keel.Server.Webhooks;

/// <summary>What a receiver is POSTed.</summary>
sealed record WebhookPayload(
    string EventType,
    string ServiceName,
    string Environment,
    string ConfigKey,
    long Version,
    long Revision,
    string ChangeType,
    DateTime Timestamp);

sealed class SubscribeRequest
{
    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public List<string>? ConfigKeys { get; set; }

    public string? WebhookUrl { get; set; }

    /// <summary><c>config</c> (the default) for configuration keys, <c>flag</c> for the flags of the service and environment.</summary>
    public string? Kind { get; set; }
}

sealed record SubscriptionResponse(
    string SubscriptionId,
    string ServiceName,
    string Environment,
    IReadOnlyList<string> SubscribedKeys,
    string WebhookUrl,
    string Status,
    DateTime CreatedAt,
    string CreatedBy,
    DateTime? LastNotifiedAt)
{
    /// <summary>The signing secret: in the answer to the subscription's creation only.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }

    /// <summary><c>flag</c> for a subscription to flags; absent for one to configuration keys.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Kind { get; init; }

    public static SubscriptionResponse From(WebhookSubscription s) => new(
        s.Id, s.ServiceName, FlagStorage.PublicEnvironment(s.Environment), s.Keys, s.Url, "active", s.CreatedAt.UtcDateTime, s.CreatedBy, s.LastNotifiedAt?.UtcDateTime)
    {
        Kind = FlagStorage.IsFlagEnvironment(s.Environment) ? "flag" : null,
    };
}

sealed record SubscriptionListResponse(IReadOnlyList<SubscriptionResponse> Subscriptions);

sealed record DeliveryResponse(
    string DeliveryId,
    string SubscriptionId,
    long Revision,
    string ServiceName,
    string Environment,
    string ConfigKey,
    long Version,
    string ChangeType,
    DateTime ChangedAt,
    string Status,
    int Attempts,
    DateTime? NextAttemptAt,
    DateTime? LastAttemptAt,
    string? LastError,
    int? LastStatusCode,
    DateTime? DeliveredAt)
{
    public static DeliveryResponse From(WebhookDelivery d) => new(
        d.Id,
        d.SubscriptionId,
        d.Change.Revision,
        d.Change.Id.ServiceName,
        FlagStorage.PublicEnvironment(d.Change.Id.Environment),
        d.Change.Id.Key,
        d.Change.Version,
        Core.Configs.ChangeTypes.ToWireName(d.Change.ChangeType),
        d.Change.Timestamp.UtcDateTime,
        d.Status.ToWireName(),
        d.Attempts,
        d.NextAttemptAt?.UtcDateTime,
        d.LastAttemptAt?.UtcDateTime,
        d.LastError,
        d.LastStatusCode,
        d.DeliveredAt?.UtcDateTime);
}

sealed record DeliveryListResponse(IReadOnlyList<DeliveryResponse> Deliveries, string? NextCursor);
