// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace Keel.Server.Watch;

/// <summary>
/// The watchers open now, bounded by <see cref="WatchOptions.MaxWatchers"/>, the watchers turned away and why streams end, as
/// the <c>Keel.Watch</c> meter reports them (<c>dotnet-counters monitor --counters Keel.Watch</c>). Tags name kinds, caps and
/// reasons only, never a token or an address.
/// </summary>
sealed class WatchMetrics : IDisposable
{
    public const string MeterName = "Keel.Watch";

    readonly Meter _meter;
    readonly UpDownCounter<long> _open;
    readonly Counter<long> _ended;
    readonly Counter<long> _refused;
    readonly int _max;
    int _count;

    public WatchMetrics(IMeterFactory meterFactory, IOptions<WatchOptions> options)
    {
        _meter = meterFactory.Create(MeterName);
        _open = _meter.CreateUpDownCounter<long>("keel.watch.open", description: "Watch streams and long-polls open now.");
        _ended = _meter.CreateCounter<long>("keel.watch.stream_ends", description: "Watch streams ended, by reason.");
        _refused = _meter.CreateCounter<long>(
            "keel.watch.refusals", description: "Watch streams and long-polls turned away, by the cap they met (server, token, client_address).");
        _max = options.Value.MaxWatchers;
    }

    /// <summary>The watchers open now.</summary>
    public int Open => Volatile.Read(ref _count);

    /// <summary>Takes a watcher slot; <see langword="false"/> when all are taken.</summary>
    public bool TryEnter(string kind)
    {
        if (Interlocked.Increment(ref _count) > _max)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _open.Add(1, new KeyValuePair<string, object?>("kind", kind));
        return true;
    }

    public void Exit(string kind)
    {
        Interlocked.Decrement(ref _count);
        _open.Add(-1, new KeyValuePair<string, object?>("kind", kind));
    }

    public void Refused(string kind, string cap) =>
        _refused.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("cap", cap));

    public void StreamEnded(string reason) => _ended.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
