// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Http;

/// <summary>The limits every request is held to (<c>Keel:Limits</c>).</summary>
sealed class LimitsOptions
{
    public const string Section = "Keel:Limits";

    /// <summary>The most keys a batch read or batch write names; fixed, as clients split their batches by it.</summary>
    public const int MaxBatchKeys = 1000;

    /// <summary>The largest value, in UTF-8 bytes, a key may hold. Larger values are refused with 413.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest request body, in bytes. Larger bodies are refused with 413 before they are read in full.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>The longest <c>change_description</c>, in characters.</summary>
    [Range(1, 100_000)]
    public int MaxChangeDescriptionLength { get; set; } = 1000;

    /// <summary>The largest import file, in bytes; it replaces <see cref="MaxRequestBodyBytes"/> for imports.</summary>
    [Range(1024, 4L * 1024 * 1024 * 1024)]
    public long MaxImportBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The most keys one import file may hold.</summary>
    [Range(1, 10_000_000)]
    public int MaxImportKeys { get; set; } = 100_000;

    /// <summary>
    /// How many bytes of keys and values in memory make a read of a whole environment or service large: such reads (listings,
    /// exports, flag files, OFREP's bulk evaluation, schema checks) take a slot of <see cref="MaxConcurrentLargeSnapshots"/>.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long LargeSnapshotBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>How many large reads of a whole environment or service the server answers at once.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentLargeSnapshots { get; set; } = 2;

    /// <summary>How long a read of an environment known to be large waits for a slot before it is answered 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan LargeSnapshotWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most bytes of values one history page or batch read carries; past it the answer ends early and says where to go
    /// on. One value is always carried, so it stays at least <see cref="MaxValueBytes"/>.
    /// </summary>
    [Range(1024, 4L * 1024 * 1024 * 1024)]
    public long MaxAnswerBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// The most connections the server holds open at once; past it a new connection is closed as it arrives. Every watch
    /// stream holds one, so it stays above <c>Keel:Watch:MaxWatchers</c>.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 60_000;

    /// <summary>The most bytes of request line and headers together; more is answered 431 (or 414 for the line) and closed.</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>The most request headers; more is answered 431 and closed.</summary>
    [Range(1, 10_000)]
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>How long a client may take to send its request line and headers; a slower one is answered 408 and closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle keep-alive connection stays open.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The slowest a request body may arrive, in bytes per second averaged from <see cref="MinRequestBodyGracePeriod"/> on;
    /// a slower one is answered 408 and closed. 0 turns the floor off.
    /// </summary>
    [Range(0, 1024 * 1024 * 1024)]
    public int MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a request body may take to reach <see cref="MinRequestBodyBytesPerSecond"/>; Kestrel needs more than a second.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}
