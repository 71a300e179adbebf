// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Watching;

/// <summary>Delays between reconnection attempts.</summary>
static class Backoff
{
    /// <summary>
    /// The delay before attempt <paramref name="failures"/> + 1: doubling from <paramref name="min"/> up to
    /// <paramref name="max"/>, then a random point in its upper half, so that clients that lost the server at the same moment
    /// come back spread over a second and more instead of at once, and each still waits at least half the nominal delay.
    /// </summary>
    public static TimeSpan Delay(int failures, TimeSpan min, TimeSpan max)
    {
        var nominal = min.Ticks * Math.Pow(2, Math.Min(Math.Max(failures - 1, 0), 30));
        var ticks = Math.Min(nominal, max.Ticks);
        return TimeSpan.FromTicks((long)(ticks / 2 + Random.Shared.NextDouble() * ticks / 2));
    }

    /// <summary>A random delay up to <paramref name="max"/>, before reconnecting a stream that ended normally.</summary>
    public static TimeSpan Spread(TimeSpan max) => TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * max.Ticks));
}
