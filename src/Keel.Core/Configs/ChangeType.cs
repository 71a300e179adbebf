// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Configs;

/// <summary>What a version of a key records.</summary>
public enum ChangeType
{
    /// <summary>The key came into existence, for the first time or again after a delete.</summary>
    Create,

    /// <summary>A live key got a new value.</summary>
    Update,

    /// <summary>The key was deleted; the version is a tombstone without a value.</summary>
    Delete,

    /// <summary>The key got the value and type of one of its earlier versions.</summary>
    Rollback,
}

/// <summary>Converts <see cref="ChangeType"/> to and from its wire name.</summary>
public static class ChangeTypes
{
    /// <summary>Returns the wire name of <paramref name="type"/>.</summary>
    public static string ToWireName(this ChangeType type) => type switch
    {
        ChangeType.Create => WireNames.ChangeTypes.Create,
        ChangeType.Update => WireNames.ChangeTypes.Update,
        ChangeType.Delete => WireNames.ChangeTypes.Delete,
        ChangeType.Rollback => WireNames.ChangeTypes.Rollback,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Parses a wire name read back from a store.</summary>
    /// <exception cref="InvalidDataException">The name is not a known change type.</exception>
    public static ChangeType ParseStored(string name) => name switch
    {
        WireNames.ChangeTypes.Create => ChangeType.Create,
        WireNames.ChangeTypes.Update => ChangeType.Update,
        WireNames.ChangeTypes.Delete => ChangeType.Delete,
        WireNames.ChangeTypes.Rollback => ChangeType.Rollback,
        _ => ConfigValueTypes.ThrowUnknown<ChangeType>("change type", name),
    };
}
