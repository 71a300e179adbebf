// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Keel.Core.Configs;

namespace Keel.Server.Watch;

/// <summary>One change, as watch streams, long-polls and webhooks carry it: never the value.</summary>
sealed record ChangeEventResponse(
    long Revision, string ServiceName, string Environment, string ConfigKey, long Version, string ChangeType, DateTime UpdatedAt)
{
    public static ChangeEventResponse From(ChangeEvent change) => new(
        change.Revision,
        change.Id.ServiceName,
        change.Id.Environment,
        change.Id.Key,
        change.Version,
        change.ChangeType.ToWireName(),
        change.Timestamp.UtcDateTime);
}

/// <summary>A long-poll answer: the changes, and the revision to ask after next.</summary>
sealed record ChangesResponse(IReadOnlyList<ChangeEventResponse> Changes, long Revision);
