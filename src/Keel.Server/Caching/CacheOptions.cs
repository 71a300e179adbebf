// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Caching;

/// <summary>Bounds of the in-memory configuration cache (<c>Keel:Cache</c>).</summary>
sealed class CacheOptions
{
    public const string Section = "Keel:Cache";

    /// <summary>The most entries the cache holds; absent keys are cached too, as small entries.</summary>
    [Range(3, 1 << 30)]
    public int MaxEntries { get; set; } = 1_000_000;

    /// <summary>The most bytes the cached entries may take, by the cache's own estimate of each entry's size.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBytes { get; set; } = 512L * 1024 * 1024;
}
