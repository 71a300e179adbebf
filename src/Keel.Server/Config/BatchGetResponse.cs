// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Configs;

namespace Keel.Server.Config;

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
