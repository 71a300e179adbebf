// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Watch;

/// <summary>How long the change feed keeps changes, and how much of it the server holds in memory (<c>Keel:ChangeFeed</c>).</summary>
sealed class ChangeFeedOptions
{
    public const string Section = "Keel:ChangeFeed";

    /// <summary>Changes more than this many revisions behind the current one are compacted away.</summary>
    [Range(1, long.MaxValue)]
    public long RetainedRevisions { get; set; } = 100_000;

    /// <summary>Changes older than this are compacted away.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the feed is compacted.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most recent changes held in memory for watchers; a watcher further behind reads the store, and one that falls this
    /// far behind while connected is disconnected to resume.
    /// </summary>
    [Range(16, 10_000_000)]
    public int BufferedChanges { get; set; } = 16_384;

    /// <summary>
    /// How often the store is read for changes when no commit signal arrives: the bound on propagation delay should a signal
    /// be lost.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Watch streams and long-polls (<c>Keel:Watch</c>).</summary>
sealed class WatchOptions
{
    public const string Section = "Keel:Watch";

    /// <summary>The longest a long-poll may hold: <c>wait</c> is at most this many seconds.</summary>
    public const int MaxWaitSeconds = 60;

    /// <summary>How long a long-poll holds when <c>wait</c> is absent.</summary>
    public const int DefaultWaitSeconds = 30;

    /// <summary>The most exact keys one watch may name in <c>keys</c>.</summary>
    public const int MaxKeys = 256;

    /// <summary>The most changes one long-poll answer or one stream write carries (more when one revision alone has more).</summary>
    public const int MaxChangesPerAnswer = 1000;

    /// <summary>How often an idle stream gets a heartbeat comment, so that proxies keep it open and clients see it alive.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a stream lives before the server ends it; the client reconnects with <c>Last-Event-ID</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxStreamLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a write to a stream may wait on a client that does not read before the stream is dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The reconnection delay the stream asks EventSource clients to use (the SSE <c>retry</c> field).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most streams and long-polls open at once; one more is answered 503 with <c>Retry-After</c>.</summary>
    [Range(1, 1_000_000)]
    public int MaxWatchers { get; set; } = 50_000;

    /// <summary>
    /// The most streams and long-polls one token holds open at once, so that no token takes the slots of every other; one more
    /// is answered 429 with <c>Retry-After</c>. 0 turns the cap off.
    /// </summary>
    /// <remarks>
    /// The replicas of a service usually share its token, each with a stream or two; a thousand leaves room for hundreds of
    /// replicas while one token holds at most 2 % of the default <see cref="MaxWatchers"/>.
    /// </remarks>
    [Range(0, 1_000_000)]
    public int MaxWatchersPerToken { get; set; } = 1_000;

    /// <summary>
    /// The most streams and long-polls one client address holds open at once, whatever tokens they use; one more is answered
    /// 429 with <c>Retry-After</c>. 0 turns the cap off.
    /// </summary>
    /// <remarks>
    /// An address can stand for many clients: a NAT gateway in front of a cluster, or a reverse proxy in front of Keel (whose
    /// address is then every client's). Five thousand leaves room for several services behind one NAT while ten addresses are
    /// needed to fill the default <see cref="MaxWatchers"/>; behind a reverse proxy, raise it or turn it off.
    /// </remarks>
    [Range(0, 1_000_000)]
    public int MaxWatchersPerClientAddress { get; set; } = 5_000;
}
