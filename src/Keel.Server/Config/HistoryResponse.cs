// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Configs;

namespace Keel.Server.Config;

/// <param name="ConfigKey">The key.</param>
/// <param name="Versions">Newest first.</param>
/// <param name="NextBeforeVersion">The <c>before_version</c> of the next page; <see langword="null"/> on the last.</param>
sealed record HistoryResponse(string ConfigKey, IReadOnlyList<HistoryItem> Versions, long? NextBeforeVersion);

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
