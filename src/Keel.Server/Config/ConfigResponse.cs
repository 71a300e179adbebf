// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Configs;

namespace Keel.Server.Config;

sealed class ConfigResponse
{
    public required string ServiceName { get; init; }

    public required string Environment { get; init; }

    public required string ConfigKey { get; init; }

    public required string? ConfigValue { get; init; }

    public required string ValueType { get; init; }

    public required long Version { get; init; }

    public required bool IsEncrypted { get; init; }

    public required DateTime CreatedAt { get; init; }

    public required DateTime UpdatedAt { get; init; }

    public required string UpdatedBy { get; init; }

    /// <summary>The store revision of the change, on answers to writes only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Revision { get; init; }

    public static ConfigResponse From(ConfigEntry entry, bool reveal, long? revision = null) => new()
    {
        ServiceName = entry.Id.ServiceName,
        Environment = entry.Id.Environment,
        ConfigKey = entry.Id.Key,
        ConfigValue = Shown(entry, reveal),
        ValueType = entry.ValueType.ToWireName(),
        Version = entry.Version,
        IsEncrypted = entry.IsEncrypted,
        CreatedAt = entry.CreatedAt.UtcDateTime,
        UpdatedAt = entry.UpdatedAt.UtcDateTime,
        UpdatedBy = entry.UpdatedBy,
        Revision = revision,
    };

    /// <summary>The value a caller sees: an encrypted one only with <c>secrets:read</c>, and never one that failed to decrypt.</summary>
    public static string? Shown(ConfigEntry entry, bool reveal) =>
        entry.IsEncrypted && (!reveal || entry.DecryptionFailed) ? null : entry.Value;
}
