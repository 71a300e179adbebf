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

    /// <summary>
    /// Whether the server keeps the names of the keys its cache holds in <c>cache-hot-keys</c> in the data folder (every
    /// <see cref="HotKeysSaveInterval"/> and at shutdown), and loads them back into the cache after it starts.
    /// </summary>
    public bool Warm { get; set; } = true;

    /// <summary>How often the names of the cached keys are written to the data folder, so that a crash leaves a recent list.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan HotKeysSaveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many keys one batch read of the warming loads.</summary>
    [Range(1, 10_000)]
    public int WarmBatchSize { get; set; } = 500;
}
