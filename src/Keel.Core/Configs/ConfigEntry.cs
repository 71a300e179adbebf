// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Configs;

/// <summary>The current, live value of a configuration key.</summary>
public sealed record ConfigEntry
{
    /// <summary>The key.</summary>
    public required ConfigId Id { get; init; }

    /// <summary>The value, as text in the form its type defines.</summary>
    public required string Value { get; init; }

    /// <summary>The type the value was checked against.</summary>
    public required ConfigValueType ValueType { get; init; }

    /// <summary>The key's version: 1 for its first write, one more for every later change, deletes included.</summary>
    public required long Version { get; init; }

    /// <summary>Whether the value is stored encrypted.</summary>
    public bool IsEncrypted { get; init; }

    /// <summary>
    /// Whether the stored ciphertext failed to decrypt (it was altered, or its key is gone); the value is then empty and must
    /// not be served.
    /// </summary>
    public bool DecryptionFailed { get; init; }

    /// <summary>When the key last came into existence.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the current version was written.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Who wrote the current version.</summary>
    public required string UpdatedBy { get; init; }

    /// <summary>The store revision at which the current version was committed.</summary>
    public required long Revision { get; init; }
}
