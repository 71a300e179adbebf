// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Search;

sealed record SearchResponse(IReadOnlyList<SearchResultItem> Results, string? NextCursor);

sealed record SearchResultItem(string ServiceName, string Environment, string ConfigKey, string ValueType, long Version, bool IsEncrypted, DateTime UpdatedAt);
