// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Security;

namespace Keel.Core.Configs;

/// <summary>A search for live keys across services and environments.</summary>
public sealed record SearchQuery
{
    /// <summary>Text the key must contain, matched without regard to case; <see langword="null"/> for any.</summary>
    public string? Text { get; init; }

    /// <summary>Text the key must start with, matched without regard to case; <see langword="null"/> for any.</summary>
    public string? Prefix { get; init; }

    /// <summary>Only this service.</summary>
    public string? ServiceName { get; init; }

    /// <summary>Only this environment.</summary>
    public string? Environment { get; init; }

    /// <summary>Only values of this type.</summary>
    public ConfigValueType? ValueType { get; init; }

    /// <summary>Only encrypted keys (<see langword="true"/>) or only plaintext ones (<see langword="false"/>).</summary>
    public bool? IsEncrypted { get; init; }

    /// <summary>Only keys of services and environments one of these patterns covers; <see langword="null"/> for every key.</summary>
    public IReadOnlyList<ScopePattern>? Scopes { get; init; }

    /// <summary>The most results to return.</summary>
    public required int Limit { get; init; }

    /// <summary>Only results after this position: the <see cref="SearchPage.Next"/> of the previous page.</summary>
    public SearchPosition? After { get; init; }

    /// <summary>
    /// The most keys the page may scan in search order to find its results (those the prefix, service and position
    /// select); past it, the page ends with what it found and <see cref="SearchPage.BudgetReached"/>. <see langword="null"/>
    /// scans as far as the page takes.
    /// </summary>
    public int? MaxScannedKeys { get; init; }

    /// <summary>
    /// The most keys a search by <see cref="Text"/> reads from a substring index that the backend keeps apart from its
    /// tables, and sorts into a page. A text more keys hold walks keys in search order instead, as far as
    /// <see cref="MaxScannedKeys"/>: so many matches fill a page soon. Zero never reads such an index.
    /// </summary>
    public int MaxIndexedCandidates { get; init; } = DefaultMaxIndexedCandidates;

    /// <summary>The default of <see cref="MaxIndexedCandidates"/>.</summary>
    public const int DefaultMaxIndexedCandidates = 10_000;
}

/// <summary>
/// A place in the order of search results: by folded key, then service, environment and key. Keys written or deleted while a
/// reader pages never make it see a key twice or skip one that stays live throughout.
/// </summary>
public sealed record SearchPosition(string SearchKey, string ServiceName, string Environment, string Key);

/// <summary>One key a search found. Values are never part of a result.</summary>
public sealed record SearchResult(ConfigId Id, ConfigValueType ValueType, long Version, bool IsEncrypted, DateTimeOffset UpdatedAt);

/// <summary>A page of search results.</summary>
public sealed class SearchPage
{
    /// <summary>The results, in search order.</summary>
    public required IReadOnlyList<SearchResult> Results { get; init; }

    /// <summary>Where the next page starts; <see langword="null"/> on the last page.</summary>
    public SearchPosition? Next { get; init; }

    /// <summary>
    /// Whether the page stopped at <see cref="SearchQuery.MaxScannedKeys"/> rather than at its limit: it may hold fewer
    /// results than asked for, and <see cref="Next"/> goes on from the last key scanned.
    /// </summary>
    public bool BudgetReached { get; init; }
}

/// <summary>How keys are folded for search.</summary>
public static class ConfigSearch
{
    /// <summary>
    /// The key as search compares it: lower case by the invariant culture's rules, the same on every backend. Every character
    /// beyond U+FFFF and every supported key character is kept, so a folded key is still a valid key.
    /// </summary>
    public static string Fold(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ToLowerInvariant();
    }

    /// <summary>The smallest text greater than every text that starts with <paramref name="prefix"/>, in code point order.</summary>
    /// <remarks>U+10FFFF is a noncharacter, which no key may hold, so no key sorts at or after <c>prefix + U+10FFFF</c>.</remarks>
    public static string UpperBound(string prefix) => prefix + "\U0010FFFF";
}
