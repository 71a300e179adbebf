// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Configs;

namespace Keel.Core.Storage;

/// <summary>
/// The rules of a change that every backend applies the same way, once it has read the key's current state inside its write
/// transaction: which change it is, whether it may happen, and what it reports.
/// </summary>
public static class ConfigWrites
{
    /// <summary>What a set does to a key that is live at <paramref name="liveVersion"/>, and whether the new version is encrypted.</summary>
    /// <param name="request">The request.</param>
    /// <param name="liveVersion">The key's live version; <see langword="null"/> when absent or deleted.</param>
    /// <param name="liveEncrypted">Whether the live version is encrypted.</param>
    /// <exception cref="KeelException">The request's condition fails, or it asks to decrypt an encrypted key.</exception>
    public static (ChangeType ChangeType, bool Encrypt) PlanSet(SetConfigRequest request, long? liveVersion, bool liveEncrypted)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Condition.EnsureMetBy(liveVersion);
        if (request.Encrypt == false && liveEncrypted)
        {
            throw new KeelException(
                KeelError.EncryptionRequired,
                $"Key '{request.Id.Key}' is encrypted, and an encrypted key stays encrypted; leave encrypt out or send true, or delete the key first.",
                [new FieldError("encrypt", "encrypt cannot be false for an encrypted key.")]);
        }

        return (liveVersion is null ? ChangeType.Create : ChangeType.Update, request.Encrypt ?? liveEncrypted);
    }

    /// <summary>
    /// What each item of a change set does, given each key's state read inside the write transaction. Every failed condition is
    /// reported at once, naming its key.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="current">Each item's key state, by item index: its live version (<see langword="null"/> when absent or deleted) and whether it is encrypted.</param>
    /// <exception cref="KeelException">
    /// The request repeats a key or lacks a value type (<see cref="KeelError.InvalidRequest"/>), conditions fail
    /// (<see cref="KeelError.VersionConflict"/>), or an item asks to decrypt an encrypted key.
    /// </exception>
    public static (ChangeType ChangeType, bool Encrypt)[] PlanChangeSet(
        ChangeSetRequest request, Func<int, (long? LiveVersion, bool LiveEncrypted)> current)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(current);
        CheckChangeSet(request);
        var plans = new (ChangeType, bool)[request.Items.Count];
        List<FieldError>? conflicts = null;
        for (var i = 0; i < plans.Length; i++)
        {
            var item = request.Items[i];
            var (live, liveEncrypted) = current(i);
            if (!item.Condition.IsMetBy(live) || (item.Value is null && live is null))
            {
                (conflicts ??= []).Add(new FieldError(item.Key, ConflictMessage(item, live)));
                continue;
            }

            if (item.Value is null)
            {
                plans[i] = (ChangeType.Delete, false);
                continue;
            }

            plans[i] = PlanSet(
                new SetConfigRequest
                {
                    Id = new ConfigId(request.ServiceName, request.Environment, item.Key),
                    Value = item.Value,
                    ValueType = item.ValueType!.Value,
                    Actor = request.Actor,
                    Encrypt = item.Encrypt,
                },
                live,
                liveEncrypted);
        }

        if (conflicts is not null)
        {
            throw new KeelException(
                KeelError.VersionConflict,
                conflicts.Count == 1
                    ? $"Key '{conflicts[0].Path}' is not at the version the request expects; nothing was written."
                    : $"{conflicts.Count} keys are not at the versions the request expects ({string.Join(", ", conflicts.Take(10).Select(c => $"'{c.Path}'"))}{(conflicts.Count > 10 ? ", …" : "")}); nothing was written.",
                conflicts);
        }

        return plans;
    }

    /// <summary>Checks a change set's <see cref="ChangeSetRequest.UnchangedSince"/> against the scope's last change revision.</summary>
    /// <param name="request">The request.</param>
    /// <param name="lastChangeRevision">The revision of the last change to any key of the service and environment.</param>
    /// <exception cref="KeelException">The scope changed after the revision the set was planned from.</exception>
    public static void CheckUnchangedSince(ChangeSetRequest request, long lastChangeRevision)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.UnchangedSince is { } since && lastChangeRevision != since)
        {
            throw new KeelException(
                KeelError.ConcurrentChange,
                $"Keys of {request.ServiceName}/{request.Environment} changed at revision {lastChangeRevision}, after revision {since} the changes were planned from; nothing was written.");
        }
    }

    static void CheckChangeSet(ChangeSetRequest request)
    {
        var keys = new HashSet<string>(request.Items.Count, StringComparer.Ordinal);
        foreach (var item in request.Items)
        {
            if (!keys.Add(item.Key))
            {
                throw new KeelException(KeelError.InvalidRequest, $"Key '{item.Key}' appears more than once in the change set.");
            }

            if (item.Value is not null && item.ValueType is null)
            {
                throw new KeelException(KeelError.InvalidRequest, $"Key '{item.Key}' has a value but no value type.");
            }
        }
    }

    static string ConflictMessage(ChangeSetItem item, long? live) => item.Condition.IsMetBy(live)
        ? $"Key '{item.Key}' does not exist, so it cannot be deleted."
        : $"Key '{item.Key}': {item.Condition.DescribeFailure(live)}";

    /// <summary>Checks that a delete may happen to a key that is live at <paramref name="liveVersion"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="liveVersion">The key's live version; <see langword="null"/> when absent or deleted.</param>
    /// <exception cref="KeelException">The key is not live, or the request's condition fails.</exception>
    public static void CheckDelete(DeleteConfigRequest request, long? liveVersion)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (liveVersion is null)
        {
            throw NotFound(request.Id);
        }

        request.Condition.EnsureMetBy(liveVersion);
    }

    /// <summary>
    /// Checks that a rollback may happen. Conditions are checked last: a request that fails without them (unknown key or version,
    /// tombstone target) fails the same way with them (RFC 9110, section 13.2.1).
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="keyExists">Whether the key ever existed.</param>
    /// <param name="targetChangeType">The change the target version recorded; <see langword="null"/> when there is no such version.</param>
    /// <param name="liveVersion">The key's live version; <see langword="null"/> when absent or deleted.</param>
    /// <exception cref="KeelException">The rollback cannot happen.</exception>
    public static void CheckRollback(RollbackConfigRequest request, bool keyExists, ChangeType? targetChangeType, long? liveVersion)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!keyExists)
        {
            throw NotFound(request.Id);
        }

        if (targetChangeType is null)
        {
            throw new KeelException(KeelError.VersionNotFound, $"Key '{request.Id.Key}' has no version {request.TargetVersion}.");
        }

        if (targetChangeType == ChangeType.Delete)
        {
            throw new KeelException(
                KeelError.RollbackToTombstone,
                $"Version {request.TargetVersion} of key '{request.Id.Key}' records a delete; delete the key instead.");
        }

        request.Condition.EnsureMetBy(liveVersion);
    }

    /// <summary>The error of a rollback target that is stored encrypted and fails to decrypt.</summary>
    /// <param name="request">The request.</param>
    public static KeelException RollbackTargetUndecryptable(RollbackConfigRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new KeelException(
            KeelError.DecryptionFailed,
            $"Version {request.TargetVersion} of key '{request.Id.Key}' is stored encrypted and fails to decrypt; it cannot be rolled back to.");
    }

    /// <summary>The description a rollback records when its writer gave none.</summary>
    /// <param name="request">The request.</param>
    public static string RollbackDescription(RollbackConfigRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.ChangeDescription ?? $"Rollback to version {request.TargetVersion}";
    }

    /// <summary>The error of a key that is absent or deleted.</summary>
    /// <param name="id">The key.</param>
    public static KeelException NotFound(ConfigId id) =>
        new(KeelError.ConfigNotFound, $"Key '{id.Key}' does not exist in {id.ServiceName}/{id.Environment}.");

    /// <summary>The audit action that records a change.</summary>
    /// <param name="changeType">The change.</param>
    public static string AuditAction(ChangeType changeType) => changeType switch
    {
        ChangeType.Create => WireNames.AuditActions.ConfigCreate,
        ChangeType.Update => WireNames.AuditActions.ConfigUpdate,
        ChangeType.Delete => WireNames.AuditActions.ConfigDelete,
        _ => WireNames.AuditActions.ConfigRollback,
    };

    /// <summary>What a committed change reports.</summary>
    /// <param name="id">The key.</param>
    /// <param name="changeType">The change.</param>
    /// <param name="value">The new value in plaintext; <see langword="null"/> for a delete.</param>
    /// <param name="valueType">The new value's type; <see langword="null"/> for a delete.</param>
    /// <param name="isEncrypted">Whether the new version is stored encrypted.</param>
    /// <param name="version">The new version.</param>
    /// <param name="previousVersion">The version before, live or tombstone; <see langword="null"/> when the key had none.</param>
    /// <param name="createdAt">When the key's current life began.</param>
    /// <param name="revision">The revision of the change.</param>
    /// <param name="now">When the change happened.</param>
    /// <param name="actor">Who made it.</param>
    public static ConfigChange Result(
        ConfigId id,
        ChangeType changeType,
        string? value,
        ConfigValueType? valueType,
        bool isEncrypted,
        long version,
        long? previousVersion,
        DateTimeOffset createdAt,
        long revision,
        DateTimeOffset now,
        Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return new ConfigChange
        {
            Id = id,
            ChangeType = changeType,
            Version = version,
            PreviousVersion = previousVersion,
            Revision = revision,
            Timestamp = now,
            Entry = changeType == ChangeType.Delete
                ? null
                : new ConfigEntry
                {
                    Id = id,
                    Value = value!,
                    ValueType = valueType!.Value,
                    Version = version,
                    IsEncrypted = isEncrypted,
                    CreatedAt = createdAt,
                    UpdatedAt = now,
                    UpdatedBy = actor.Name,
                    Revision = revision,
                },
        };
    }
}
