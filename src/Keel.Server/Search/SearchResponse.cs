// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Search;

/// <param name="Results">The keys found, in search order.</param>
/// <param name="NextCursor">Where the next page starts; <see langword="null"/> on the last page.</param>
/// <param name="ScanBudgetReached">
/// The page stopped at <see cref="SearchOptions.MaxScannedKeys"/>: it may hold fewer results than asked for, or none, and
/// <paramref name="NextCursor"/> goes on from the last key scanned.
/// </param>
sealed record SearchResponse(IReadOnlyList<SearchResultItem> Results, string? NextCursor, bool ScanBudgetReached);

sealed record SearchResultItem(string ServiceName, string Environment, string ConfigKey, string ValueType, long Version, bool IsEncrypted, DateTime UpdatedAt);
