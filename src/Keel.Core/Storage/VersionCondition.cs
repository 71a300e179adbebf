// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Storage;

/// <summary>
/// A condition on a key's current state that a change requires, checked in the same transaction as the change
/// (HTTP <c>If-Match</c> and <c>If-None-Match: *</c>).
/// </summary>
public readonly record struct VersionCondition
{
    VersionCondition(VersionConditionKind kind, IReadOnlyList<long> versions)
    {
        Kind = kind;
        Versions = versions;
    }

    /// <summary>No condition.</summary>
    public static VersionCondition None => default;

    /// <summary>The key must be live (not absent, not deleted), at any version.</summary>
    public static VersionCondition Exists => new(VersionConditionKind.Exists, []);

    /// <summary>The key must be absent or deleted.</summary>
    public static VersionCondition NotExists => new(VersionConditionKind.NotExists, []);

    /// <summary>What the condition requires.</summary>
    public VersionConditionKind Kind { get; }

    /// <summary>The versions the key may be live at when <see cref="Kind"/> is <see cref="VersionConditionKind.IsVersion"/>; none means no version will do.</summary>
    public IReadOnlyList<long> Versions { get => field ?? []; }

    /// <summary>The key must be live at exactly <paramref name="version"/>.</summary>
    public static VersionCondition IsVersion(long version) => new(VersionConditionKind.IsVersion, [version]);

    /// <summary>The key must be live at one of <paramref name="versions"/>; an empty list is a condition no key meets.</summary>
    public static VersionCondition IsAnyVersion(IReadOnlyList<long> versions) => new(VersionConditionKind.IsVersion, versions);

    /// <summary>Whether a key whose live version is <paramref name="liveVersion"/> (<see langword="null"/> when absent or deleted) satisfies the condition.</summary>
    public bool IsMetBy(long? liveVersion) => Kind switch
    {
        VersionConditionKind.None => true,
        VersionConditionKind.Exists => liveVersion is not null,
        VersionConditionKind.NotExists => liveVersion is null,
        VersionConditionKind.IsVersion => liveVersion is { } live && Versions.Contains(live),
        _ => false,
    };

    /// <summary>Throws the precondition failure when <see cref="IsMetBy"/> is false.</summary>
    /// <exception cref="KeelException">The condition does not hold; the error is <see cref="KeelError.PreconditionFailed"/>.</exception>
    public void EnsureMetBy(long? liveVersion)
    {
        if (!IsMetBy(liveVersion))
        {
            throw new KeelException(KeelError.PreconditionFailed, DescribeFailure(liveVersion));
        }
    }

    /// <summary>Why a key whose live version is <paramref name="liveVersion"/> fails the condition.</summary>
    public string DescribeFailure(long? liveVersion) => Kind switch
    {
        VersionConditionKind.Exists => "The key does not exist.",
        VersionConditionKind.NotExists => $"The key already exists at version {liveVersion}.",
        _ when Versions.Count == 1 && liveVersion is null => $"Version {Versions[0]} was required but the key does not exist.",
        _ when Versions.Count == 1 => $"Version {Versions[0]} was required but the key is at version {liveVersion}.",
        _ when liveVersion is null => "A version was required but the key does not exist.",
        _ => $"The key is at version {liveVersion}, which the condition does not name.",
    };
}

/// <summary>The kinds of <see cref="VersionCondition"/>.</summary>
public enum VersionConditionKind
{
    /// <summary>No condition.</summary>
    None,

    /// <summary>The key must be live.</summary>
    Exists,

    /// <summary>The key must be absent or deleted.</summary>
    NotExists,

    /// <summary>The key must be live at one version.</summary>
    IsVersion,
}
