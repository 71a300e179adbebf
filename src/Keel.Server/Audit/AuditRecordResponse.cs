// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Flags;

namespace Keel.Server.Audit;

sealed record AuditActorResponse(string? TokenId, string Name);

sealed record AuditRecordResponse(
    long Id,
    DateTime Time,
    AuditActorResponse Actor,
    string? ClientAddress,
    string Action,
    string? ServiceName,
    string? Environment,
    string Target,
    long? FromVersion,
    long? ToVersion,
    long? Revision,
    string? RequestId)
{
    /// <summary>The record as the API shows it; a flag's change reads as a flag action in the flag's environment.</summary>
    public static AuditRecordResponse From(AuditRecord r)
    {
        var flag = r.Environment is { } stored && FlagStorage.IsFlagEnvironment(stored);
        return new(
            r.Id,
            r.Time.UtcDateTime,
            new AuditActorResponse(r.ActorTokenId, r.ActorName),
            r.ClientAddress,
            flag && r.Action.StartsWith(ConfigActionPrefix, StringComparison.Ordinal) ? "flag." + r.Action[ConfigActionPrefix.Length..] : r.Action,
            r.ServiceName,
            r.Environment is { } environment ? FlagStorage.PublicEnvironment(environment) : null,
            r.Target,
            r.FromVersion,
            r.ToVersion,
            r.Revision,
            r.RequestId);
    }

    const string ConfigActionPrefix = "config.";
}
