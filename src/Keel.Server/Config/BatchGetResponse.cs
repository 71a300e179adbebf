// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Configs;

namespace Keel.Server.Config;

/// <param name="Configs">The keys found, in the order asked, as many as fit in <c>Keel:Limits:MaxAnswerBytes</c>.</param>
/// <param name="Missing">The keys that are absent.</param>
/// <param name="Deferred">The keys found but past the byte bound, in the order asked: ask for them again.</param>
sealed record BatchGetResponse(IReadOnlyList<BatchConfigItem> Configs, IReadOnlyList<string> Missing, IReadOnlyList<string> Deferred);

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
