// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core.Audit;
using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Core.Storage;

namespace Keel.Storage.Relational.Configs;

/// <summary>What a change to one key will record, as the rules decided from the key's state inside the write transaction.</summary>
sealed record ChangePlan(ChangeType ChangeType, string? Value, ConfigValueType? ValueType, bool Encrypt, string? Description, Actor Actor)
{
    /// <summary>The version a rollback returns to, as stored.</summary>
    public sealed record Target(string? Value, ConfigValueType? ValueType, bool IsEncrypted, ChangeType ChangeType)
    {
        public const string Columns = "value, value_type, is_encrypted, change_type";

        public static Target Read(DbDataReader r, SqlDialect _) => new(
            r.GetStringOrNull("value"),
            r.GetStringOrNull("value_type") is { } type ? ConfigValueTypes.ParseStored(type) : null,
            r.GetBoolean("is_encrypted"),
            ChangeTypes.ParseStored(r.GetString("change_type")));
    }

    public static ChangePlan ForSet(SetConfigRequest request, long? liveVersion, bool liveEncrypted)
    {
        var (changeType, encrypt) = ConfigWrites.PlanSet(request, liveVersion, liveEncrypted);
        return new(changeType, request.Value, request.ValueType, encrypt, request.ChangeDescription, request.Actor);
    }

    public static ChangePlan ForDelete(DeleteConfigRequest request, long? liveVersion)
    {
        ConfigWrites.CheckDelete(request, liveVersion);
        return new(ChangeType.Delete, null, null, Encrypt: false, request.ChangeDescription, request.Actor);
    }

    /// <summary>A rollback to <paramref name="target"/>, its value decrypted to be encrypted again as the new version.</summary>
    public static ChangePlan ForRollback(
        RollbackConfigRequest request, bool exists, long? liveVersion, bool liveEncrypted, Target? target, KeyRing ring)
    {
        ConfigWrites.CheckRollback(request, exists, target?.ChangeType, liveVersion);
        var value = target!.Value;
        if (target.IsEncrypted && ring.TryDecrypt(request.Id, request.TargetVersion, value!, out value) != DecryptionStatus.Ok)
        {
            throw ConfigWrites.RollbackTargetUndecryptable(request);
        }

        return new(
            ChangeType.Rollback, value, target.ValueType, target.IsEncrypted || liveEncrypted, ConfigWrites.RollbackDescription(request), request.Actor);
    }
}
