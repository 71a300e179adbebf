// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Webhooks;

/// <summary>A webhook: the keys of one service and environment whose changes are POSTed to a URL.</summary>
public sealed record WebhookSubscription
{
    /// <summary>The subscription's id.</summary>
    public required string Id { get; init; }

    /// <summary>The service whose changes are delivered.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The environment whose changes are delivered.</summary>
    public required string Environment { get; init; }

    /// <summary>The keys: exact keys, or prefixes ending in <c>*</c> (<c>*</c> alone is every key).</summary>
    public required IReadOnlyList<string> Keys { get; init; }

    /// <summary>Where deliveries are POSTed.</summary>
    public required string Url { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The name of the token that created it.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>When a delivery last succeeded; <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastNotifiedAt { get; init; }

    /// <summary>Whether a change to <paramref name="key"/> is delivered.</summary>
    public bool Matches(string key) => KeyPatterns.MatchesAny(Keys, key);
}

/// <summary>A subscription to create; the store encrypts <see cref="Secret"/> before it stores it.</summary>
public sealed record NewWebhookSubscription
{
    /// <summary>The subscription's id, chosen by the caller.</summary>
    public required string Id { get; init; }

    /// <summary>The service whose changes are delivered.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The environment whose changes are delivered.</summary>
    public required string Environment { get; init; }

    /// <summary>Exact keys, or prefixes ending in <c>*</c>.</summary>
    public required IReadOnlyList<string> Keys { get; init; }

    /// <summary>Where deliveries are POSTed.</summary>
    public required string Url { get; init; }

    /// <summary>The HMAC key deliveries are signed with.</summary>
    public required string Secret { get; init; }
}

/// <summary>Matching of keys against subscription patterns: an exact key, or a prefix ending in <c>*</c>.</summary>
public static class KeyPatterns
{
    /// <summary>Whether <paramref name="key"/> matches one of <paramref name="patterns"/>.</summary>
    public static bool MatchesAny(IReadOnlyList<string> patterns, string key)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        ArgumentNullException.ThrowIfNull(key);
        foreach (var pattern in patterns)
        {
            if (Matches(pattern, key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="key"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string pattern, string key)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(key);
        return pattern.EndsWith('*')
            ? key.AsSpan().StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(pattern, key, StringComparison.Ordinal);
    }
}
