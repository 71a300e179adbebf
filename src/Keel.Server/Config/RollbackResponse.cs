// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;

namespace Keel.Server.Config;

sealed record RollbackResponse(string ConfigKey, long Version, long? PreviousVersion, long RolledBackTo, DateTime UpdatedAt, long Revision)
{
    public static RollbackResponse From(ConfigChange change, long target) =>
        new(change.Id.Key, change.Version, change.PreviousVersion, target, change.Timestamp.UtcDateTime, change.Revision);
}
