// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;

namespace Keel.Core.Webhooks;

/// <summary>Where a delivery stands.</summary>
public enum DeliveryStatus
{
    /// <summary>Not yet delivered; attempted when due.</summary>
    Pending,

    /// <summary>The receiver answered 2xx.</summary>
    Delivered,

    /// <summary>Every attempt failed; only a redelivery tries again.</summary>
    Dead,
}

/// <summary>One change to deliver to one subscription, written in the change's transaction.</summary>
public sealed record WebhookDelivery
{
    /// <summary>The delivery's id, unique across stores and restarts; sent as <c>X-Keel-Delivery</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The subscription it is for.</summary>
    public required string SubscriptionId { get; init; }

    /// <summary>The change it delivers.</summary>
    public required ChangeEvent Change { get; init; }

    /// <summary>Where it stands.</summary>
    public required DeliveryStatus Status { get; init; }

    /// <summary>How many attempts were made.</summary>
    public required int Attempts { get; init; }

    /// <summary>When it is next attempted, while pending.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>When it was last attempted.</summary>
    public DateTimeOffset? LastAttemptAt { get; init; }

    /// <summary>Why the last attempt failed: a status code or a network error, never the receiver's body.</summary>
    public string? LastError { get; init; }

    /// <summary>The HTTP status of the last attempt, when the receiver answered.</summary>
    public int? LastStatusCode { get; init; }

    /// <summary>When it was delivered.</summary>
    public DateTimeOffset? DeliveredAt { get; init; }

    /// <summary>The delivery made pending again by a redelivery at <paramref name="now"/>: due at once, its attempts reset.</summary>
    /// <param name="now">When it is redelivered.</param>
    /// <exception cref="KeelException">It is still pending (<see cref="KeelError.DeliveryPending"/>).</exception>
    public WebhookDelivery Redelivered(DateTimeOffset now) => Status == DeliveryStatus.Pending
        ? throw new KeelException(KeelError.DeliveryPending, $"Delivery '{Id}' is still pending; it is attempted when due.")
        : this with
        {
            Status = DeliveryStatus.Pending,
            Attempts = 0,
            NextAttemptAt = now,
            LastError = null,
            LastStatusCode = null,
            DeliveredAt = null,
        };
}

/// <summary>A delivery that is due, with what the sender needs.</summary>
/// <param name="Delivery">The delivery.</param>
/// <param name="Url">The subscription's URL.</param>
/// <param name="Secret">The subscription's signing secret, decrypted; <see langword="null"/> when it fails to decrypt.</param>
public sealed record DueDelivery(WebhookDelivery Delivery, string Url, string? Secret);

/// <summary>The result of one delivery attempt.</summary>
public sealed record DeliveryAttempt
{
    /// <summary>The delivery.</summary>
    public required string DeliveryId { get; init; }

    /// <summary>When the attempt was made.</summary>
    public required DateTimeOffset AttemptedAt { get; init; }

    /// <summary>Whether the receiver answered 2xx.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>The HTTP status, when the receiver answered.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; init; }

    /// <summary>When to try again after a failure; <see langword="null"/> makes the delivery dead.</summary>
    public DateTimeOffset? RetryAt { get; init; }
}

/// <summary>A page of one subscription's deliveries, newest first.</summary>
public sealed record DeliveryQuery
{
    /// <summary>The subscription.</summary>
    public required string SubscriptionId { get; init; }

    /// <summary>Only deliveries in this state, when set.</summary>
    public DeliveryStatus? Status { get; init; }

    /// <summary>Only deliveries older than the one at this position (from a previous page), when set.</summary>
    public long? Before { get; init; }

    /// <summary>The most deliveries to return.</summary>
    public required int Limit { get; init; }
}

/// <summary>A page of deliveries.</summary>
/// <param name="Deliveries">The deliveries, newest first.</param>
/// <param name="Next">Where the next page starts, or <see langword="null"/> on the last one.</param>
public sealed record DeliveryPage(IReadOnlyList<WebhookDelivery> Deliveries, long? Next);

/// <summary>Converts <see cref="DeliveryStatus"/> to and from its wire name.</summary>
public static class DeliveryStatuses
{
    /// <summary>Returns the wire name of <paramref name="status"/>.</summary>
    public static string ToWireName(this DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => WireNames.DeliveryStatuses.Pending,
        DeliveryStatus.Delivered => WireNames.DeliveryStatuses.Delivered,
        DeliveryStatus.Dead => WireNames.DeliveryStatuses.Dead,
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>Parses a wire name from a request.</summary>
    public static bool TryParse(string? name, out DeliveryStatus status)
    {
        (var known, status) = name switch
        {
            WireNames.DeliveryStatuses.Pending => (true, DeliveryStatus.Pending),
            WireNames.DeliveryStatuses.Delivered => (true, DeliveryStatus.Delivered),
            WireNames.DeliveryStatuses.Dead => (true, DeliveryStatus.Dead),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>Parses a wire name read back from a store.</summary>
    /// <exception cref="InvalidDataException">The name is not a known status.</exception>
    public static DeliveryStatus ParseStored(string name) =>
        TryParse(name, out var status) ? status : Configs.ConfigValueTypes.ThrowUnknown<DeliveryStatus>("delivery status", name);
}
