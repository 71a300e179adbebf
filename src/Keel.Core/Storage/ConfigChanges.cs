// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Configs;

namespace Keel.Core.Storage;

/// <summary>A request to set a key's value.</summary>
public sealed record SetConfigRequest
{
    /// <summary>The key.</summary>
    public required ConfigId Id { get; init; }

    /// <summary>The new value, already checked against <see cref="ValueType"/>.</summary>
    public required string Value { get; init; }

    /// <summary>The value's type.</summary>
    public required ConfigValueType ValueType { get; init; }

    /// <summary>The writer's description of the change.</summary>
    public string? ChangeDescription { get; init; }

    /// <summary>Who makes the change; recorded as its author and in its audit record.</summary>
    public required Actor Actor { get; init; }

    /// <summary>The condition the key's current state must meet.</summary>
    public VersionCondition Condition { get; init; }

    /// <summary>
    /// Whether to store the value encrypted; <see langword="null"/> keeps the live key's choice (plaintext for a new key).
    /// Once a key is encrypted, every version in its history is, and <see langword="false"/> is refused.
    /// </summary>
    public bool? Encrypt { get; init; }
}

/// <summary>A request to delete a key, leaving a tombstone version in its history.</summary>
public sealed record DeleteConfigRequest
{
    /// <summary>The key.</summary>
    public required ConfigId Id { get; init; }

    /// <summary>The writer's description of the change.</summary>
    public string? ChangeDescription { get; init; }

    /// <summary>Who makes the change; recorded as its author and in its audit record.</summary>
    public required Actor Actor { get; init; }

    /// <summary>The condition the key's current state must meet.</summary>
    public VersionCondition Condition { get; init; }
}

/// <summary>A request to give a key the value and type of one of its earlier versions, as a new version.</summary>
public sealed record RollbackConfigRequest
{
    /// <summary>The key.</summary>
    public required ConfigId Id { get; init; }

    /// <summary>The version whose value and type the key gets.</summary>
    public required long TargetVersion { get; init; }

    /// <summary>The writer's description of the change; the store supplies one when absent.</summary>
    public string? ChangeDescription { get; init; }

    /// <summary>Who makes the change; recorded as its author and in its audit record.</summary>
    public required Actor Actor { get; init; }

    /// <summary>The condition the key's current state must meet.</summary>
    public VersionCondition Condition { get; init; }
}

/// <summary>What a committed change did.</summary>
public sealed class ConfigChange
{
    /// <summary>The key.</summary>
    public required ConfigId Id { get; init; }

    /// <summary>What the change was.</summary>
    public required ChangeType ChangeType { get; init; }

    /// <summary>The version the change created.</summary>
    public required long Version { get; init; }

    /// <summary>The version before the change (live or tombstone), or <see langword="null"/> when the key had none.</summary>
    public long? PreviousVersion { get; init; }

    /// <summary>The store revision the change was committed at.</summary>
    public required long Revision { get; init; }

    /// <summary>When the change was committed.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The key's live entry after the change; <see langword="null"/> after a delete.</summary>
    public ConfigEntry? Entry { get; init; }
}

/// <summary>Every live key of one service and environment, read in one transaction.</summary>
public sealed class ConfigSnapshot
{
    /// <summary>The store revision the snapshot was read at; a change feed reader resumes after it.</summary>
    public required long Revision { get; init; }

    /// <summary>The revision of the last change to any key of the service and environment, deletes included; 0 when none.</summary>
    public required long LastChangeRevision { get; init; }

    /// <summary>The live keys, ordered by key in Unicode code point order.</summary>
    public required IReadOnlyList<ConfigEntry> Entries { get; init; }
}

/// <summary>
/// Changes to many keys of one service and environment, committed together as one revision, or not at all.
/// </summary>
public sealed record ChangeSetRequest
{
    /// <summary>The service.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The environment.</summary>
    public required string Environment { get; init; }

    /// <summary>The changes, at most one per key.</summary>
    public required IReadOnlyList<ChangeSetItem> Items { get; init; }

    /// <summary>The writer's description, recorded on every version the set creates.</summary>
    public string? ChangeDescription { get; init; }

    /// <summary>Who makes the changes; recorded as their author and in their audit records.</summary>
    public required Actor Actor { get; init; }

    /// <summary>
    /// When set, the set commits only if no key of the service and environment changed after this revision (the
    /// <see cref="ConfigSnapshot.LastChangeRevision"/> it was planned from); otherwise it fails with
    /// <see cref="KeelError.ConcurrentChange"/>.
    /// </summary>
    public long? UnchangedSince { get; init; }
}

/// <summary>One key's change within a <see cref="ChangeSetRequest"/>: a set, or a delete when <see cref="Value"/> is null.</summary>
public sealed record ChangeSetItem
{
    /// <summary>The key.</summary>
    public required string Key { get; init; }

    /// <summary>The new value, already checked against <see cref="ValueType"/>; <see langword="null"/> deletes the key.</summary>
    public string? Value { get; init; }

    /// <summary>The value's type; required with a value.</summary>
    public ConfigValueType? ValueType { get; init; }

    /// <summary>As <see cref="SetConfigRequest.Encrypt"/>.</summary>
    public bool? Encrypt { get; init; }

    /// <summary>The condition the key's current state must meet; a delete of a key that is not live fails as a condition does.</summary>
    public VersionCondition Condition { get; init; }

    /// <summary>A set of <paramref name="key"/> to <paramref name="value"/>.</summary>
    public static ChangeSetItem Set(string key, string value, ConfigValueType valueType = ConfigValueType.String, bool? encrypt = null, VersionCondition condition = default) =>
        new() { Key = key, Value = value, ValueType = valueType, Encrypt = encrypt, Condition = condition };

    /// <summary>A delete of <paramref name="key"/>.</summary>
    public static ChangeSetItem Delete(string key, VersionCondition condition = default) => new() { Key = key, Condition = condition };
}

/// <summary>What a committed change set did.</summary>
public sealed class ChangeSetResult
{
    /// <summary>The revision every change was committed at; <see langword="null"/> when the set was empty and nothing was written.</summary>
    public long? Revision { get; init; }

    /// <summary>The changes, in the order of the request's items.</summary>
    public required IReadOnlyList<ConfigChange> Changes { get; init; }
}
