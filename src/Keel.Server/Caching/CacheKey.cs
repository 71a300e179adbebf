// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Server.Caching;

/// <summary>
/// A <see cref="ConfigId"/> with its hash computed once, so that the cache lookup and the generation stripe share one hash.
/// </summary>
readonly struct CacheKey : IEquatable<CacheKey>
{
    public CacheKey(ConfigId id)
    {
        Id = id;
        Hash = HashCode.Combine(
            StringComparer.Ordinal.GetHashCode(id.ServiceName),
            StringComparer.Ordinal.GetHashCode(id.Environment),
            StringComparer.Ordinal.GetHashCode(id.Key));
    }

    public ConfigId Id { get; }

    public int Hash { get; }

    public bool Equals(CacheKey other) =>
        Hash == other.Hash
        && string.Equals(Id.Key, other.Id.Key, StringComparison.Ordinal)
        && string.Equals(Id.Environment, other.Id.Environment, StringComparison.Ordinal)
        && string.Equals(Id.ServiceName, other.Id.ServiceName, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is CacheKey other && Equals(other);

    public override int GetHashCode() => Hash;
}
