// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Server.Flags;

/// <summary>A flag's versions, newest first.</summary>
sealed record FlagHistoryResponse(string FlagKey, IReadOnlyList<FlagHistoryItem> Versions, long? NextBeforeVersion);

/// <summary>One version of a flag; a delete has no definition.</summary>
sealed record FlagHistoryItem(long Version, JsonElement? Definition, string? ChangeDescription, string ChangeType, DateTime CreatedAt, string CreatedBy, long Revision);
