// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Keel.Client.Diagnostics;

/// <summary>
/// The <c>Keel.Client</c> meter: reloads raised, changes applied, reconnects, and the seconds since each provider last
/// heard from Keel (<c>dotnet-counters monitor --counters Keel.Client</c>). Tags name the kind (<c>config</c>, <c>flag</c>)
/// and the selection, never a key or a value.
/// </summary>
static class ClientMetrics
{
    public const string MeterName = "Keel.Client";

    static readonly Meter Meter = new(MeterName);
    static readonly ConcurrentDictionary<object, Func<Measurement<double>?>> Ages = new();

    public static readonly Counter<long> Reloads = Meter.CreateCounter<long>("keel.client.reloads", description: "Reloads raised because the flattened data changed.");

    public static readonly Counter<long> ChangesApplied = Meter.CreateCounter<long>("keel.client.changes_applied", description: "Changes of keys applied to the data.");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("keel.client.reconnects", description: "Failed attempts to read or watch that are retried.");

    static ClientMetrics() =>
        Meter.CreateObservableGauge(
            "keel.client.seconds_since_last_success",
            () => Ages.Values.Select(age => age()).OfType<Measurement<double>>(),
            unit: "s",
            description: "Seconds since Keel last answered a read or watch of the provider.");

    /// <summary>Reports <paramref name="age"/> under the gauge until <see cref="Forget"/>.</summary>
    public static void Track(object owner, Func<Measurement<double>?> age) => Ages[owner] = age;

    public static void Forget(object owner) => Ages.TryRemove(owner, out _);
}
