// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Configs;

/// <summary>One immutable version in a key's history.</summary>
public sealed record ConfigVersion
{
    /// <summary>The version number, unique within the key.</summary>
    public required long Version { get; init; }

    /// <summary>The value this version set; <see langword="null"/> for a delete (a tombstone).</summary>
    public string? Value { get; init; }

    /// <summary>The value's type; <see langword="null"/> for a delete.</summary>
    public ConfigValueType? ValueType { get; init; }

    /// <summary>Whether the value is stored encrypted.</summary>
    public bool IsEncrypted { get; init; }

    /// <summary>
    /// Whether the stored ciphertext failed to decrypt (it was altered, or its key is gone); the value is then empty and must
    /// not be served.
    /// </summary>
    public bool DecryptionFailed { get; init; }

    /// <summary>What the change was.</summary>
    public required ChangeType ChangeType { get; init; }

    /// <summary>The writer's description of the change, if given.</summary>
    public string? ChangeDescription { get; init; }

    /// <summary>When the version was written.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Who wrote the version.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>The store revision at which the version was committed.</summary>
    public required long Revision { get; init; }

    /// <summary>Whether this version records a delete.</summary>
    public bool IsTombstone => ChangeType == ChangeType.Delete;
}
