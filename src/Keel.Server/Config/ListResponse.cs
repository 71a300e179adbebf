// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Configs;

namespace Keel.Server.Config;

// NextCursor is present when the answer stops at the byte bound for one answer: the cursor of the next page.
sealed record ListResponse(
    string ServiceName,
    string Environment,
    long Revision,
    IReadOnlyList<ListItem> Configs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextCursor);

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
