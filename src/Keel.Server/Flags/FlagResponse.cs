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
