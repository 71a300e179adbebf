// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Configs;

namespace Keel.Server.Flags;

/// <summary>A flag and its definition in flagd's format.</summary>
sealed record FlagResponse(
    string ServiceName,
    string Environment,
    string FlagKey,
    long Version,
    JsonElement Definition,
    DateTime UpdatedAt,
    string UpdatedBy,
    long? Revision)
{
    public static FlagResponse From(string environment, ConfigEntry entry, long? revision = null) => new(
        entry.Id.ServiceName, environment, entry.Id.Key, entry.Version, Parse(entry.Value), entry.UpdatedAt.UtcDateTime, entry.UpdatedBy, revision);

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}

/// <summary>One version of a flag; a delete has no definition.</summary>
sealed record FlagHistoryItem(long Version, JsonElement? Definition, string? ChangeDescription, string ChangeType, DateTime CreatedAt, string CreatedBy, long Revision);

/// <summary>A flag's versions, newest first.</summary>
sealed record FlagHistoryResponse(string FlagKey, IReadOnlyList<FlagHistoryItem> Versions);

/// <summary>A deleted flag.</summary>
sealed record FlagDeleteResponse(bool Deleted, string Message, long Version, long Revision);
