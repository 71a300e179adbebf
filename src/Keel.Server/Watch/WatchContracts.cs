// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Flags;

namespace Keel.Server.Watch;

/// <summary>One change, as watch streams, long-polls and webhooks carry it: never the value.</summary>
sealed record ChangeEventResponse(
    long Revision,
    string ServiceName,
    string Environment,
    string ConfigKey,
    long Version,
    string ChangeType,
    DateTime UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Kind)
{
    /// <summary>The change as a watcher reads it; a flag's change names its environment as the flag API does, with kind "flag".</summary>
    public static ChangeEventResponse From(ChangeEvent change)
    {
        var flag = FlagStorage.IsFlagEnvironment(change.Id.Environment);
        return new(
            change.Revision,
            change.Id.ServiceName,
            FlagStorage.PublicEnvironment(change.Id.Environment),
            change.Id.Key,
            change.Version,
            change.ChangeType.ToWireName(),
            change.Timestamp.UtcDateTime,
            flag ? "flag" : null);
    }
}

/// <summary>A long-poll answer: the changes, and the revision to ask after next.</summary>
sealed record ChangesResponse(IReadOnlyList<ChangeEventResponse> Changes, long Revision);
