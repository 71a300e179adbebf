// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Search;

/// <summary>What one search page may cost (<c>Keel:Search</c>).</summary>
sealed class SearchOptions
{
    public const string Section = "Keel:Search";

    /// <summary>
    /// The most keys one page scans in search order (those its prefix, service and cursor select) to find keys that match
    /// its text, environment, type and the token's scopes. Past it, the page holds what it found, with
    /// <c>scan_budget_reached</c> and a cursor to go on from.
    /// </summary>
    [Range(1, 100_000_000)]
    public int MaxScannedKeys { get; set; } = 100_000;
}
