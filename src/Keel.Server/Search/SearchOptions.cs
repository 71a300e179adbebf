// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;
using Keel.Core.Configs;

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

    /// <summary>
    /// The most keys a text search (<c>q=</c>) reads from the substring index (SQLite's FTS5 trigrams, PostgreSQL's
    /// pg_trgm) and sorts into a page; a text more keys hold, so many that a walk fills its page soon, walks keys in search
    /// order as above. Zero walks always.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxIndexedCandidates { get; set; } = SearchQuery.DefaultMaxIndexedCandidates;
}
