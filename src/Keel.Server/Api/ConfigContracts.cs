// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Server.Api;

// Request bodies: every field is nullable so that a missing field is reported by name, with all the others, instead of by the
// serializer's first complaint.

sealed class PutConfigRequest
{
    /// <summary>Undefined when the field is absent; a JSON null is kept as one, so the two are told apart.</summary>
    public JsonElement ConfigValue { get; set; }

    public string? ValueType { get; set; }

    public string? ChangeDescription { get; set; }

    public bool? Encrypt { get; set; }
}

sealed class BatchGetRequest
{
    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public List<string>? ConfigKeys { get; set; }
}

sealed class RollbackRequest
{
    public long? TargetVersion { get; set; }

    public string? ChangeDescription { get; set; }
}

// Responses.

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

sealed record BatchGetResponse(IReadOnlyList<BatchConfigItem> Configs, IReadOnlyList<string> Missing);

sealed record BatchConfigItem(
    string ConfigKey,
    string? ConfigValue,
    string ValueType,
    long Version,
    bool IsEncrypted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool DecryptionFailed)
{
    public static BatchConfigItem From(ConfigEntry entry, bool reveal) =>
        new(entry.Id.Key, ConfigResponse.Shown(entry, reveal), entry.ValueType.ToWireName(), entry.Version, entry.IsEncrypted, reveal && entry.DecryptionFailed);
}

sealed record DeleteResponse(bool Success, string Message, long Version, long Revision);

sealed record HistoryResponse(string ConfigKey, IReadOnlyList<HistoryItem> Versions);

sealed record HistoryItem(
    long Version,
    string? ConfigValue,
    string? ValueType,
    bool IsEncrypted,
    string? ChangeDescription,
    string ChangeType,
    DateTime CreatedAt,
    string CreatedBy,
    long Revision,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool DecryptionFailed)
{
    public static HistoryItem From(ConfigVersion version, bool reveal) => new(
        version.Version,
        version.IsEncrypted && (!reveal || version.DecryptionFailed) ? null : version.Value,
        version.ValueType?.ToWireName(),
        version.IsEncrypted,
        version.ChangeDescription,
        version.ChangeType.ToWireName(),
        version.CreatedAt.UtcDateTime,
        version.CreatedBy,
        version.Revision,
        reveal && version.DecryptionFailed);
}

sealed record RollbackResponse(string ConfigKey, long Version, long? PreviousVersion, long RolledBackTo, DateTime UpdatedAt, long Revision)
{
    public static RollbackResponse From(ConfigChange change, long target) =>
        new(change.Id.Key, change.Version, change.PreviousVersion, target, change.Timestamp.UtcDateTime, change.Revision);
}

sealed record ListResponse(string ServiceName, string Environment, long Revision, IReadOnlyList<ListItem> Configs);

sealed record ListItem(
    string ConfigKey,
    string? ConfigValue,
    string ValueType,
    long Version,
    bool IsEncrypted,
    DateTime UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool DecryptionFailed)
{
    public static ListItem From(ConfigEntry entry, bool reveal) => new(
        entry.Id.Key,
        ConfigResponse.Shown(entry, reveal),
        entry.ValueType.ToWireName(),
        entry.Version,
        entry.IsEncrypted,
        entry.UpdatedAt.UtcDateTime,
        reveal && entry.DecryptionFailed);
}
