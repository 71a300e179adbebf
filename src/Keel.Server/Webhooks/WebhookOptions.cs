// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Webhooks;

/// <summary>Webhook delivery (<c>Keel:Webhooks</c>).</summary>
sealed class WebhookOptions
{
    public const string Section = "Keel:Webhooks";

    /// <summary>The longest <c>webhook_url</c> accepted.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>The most key patterns one subscription may name.</summary>
    public const int MaxKeyPatterns = 100;

    /// <summary>
    /// Whether webhooks may target loopback, private, link-local and other non-public addresses. Off by default, so that a
    /// token holder cannot make the server call into its own network (SSRF).
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long one delivery attempt may take, connection included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node holds a delivery it took: no other node takes it meanwhile. A node that dies mid-delivery leaves it to
    /// another once this has passed. Longer than <see cref="Timeout"/>, so that a slow attempt is never made twice at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts before a delivery is dead.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait after the first failed attempt; each later wait doubles, with ±20 % jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two attempts, jitter included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Deliveries in flight at once, each to a different subscription.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>How often the outbox is read when nothing signals it (deliveries written by another node, retries that came due).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long delivered and dead deliveries stay listed before they are pruned.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(7);
}
