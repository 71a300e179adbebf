// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client;

/// <summary>How a Keel configuration provider or flag client keeps its data current.</summary>
public sealed class KeelRefreshOptions
{
    /// <summary>How changes are learnt of; <see cref="KeelRefreshMode.Watch"/> by default.</summary>
    public KeelRefreshMode Mode { get; set; } = KeelRefreshMode.Watch;

    /// <summary>How often <see cref="KeelRefreshMode.Poll"/> reads the data; 30 seconds by default.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a conditional read (by ETag) checks the data while a watch or long-poll runs, as a safety net against a
    /// missed change; 5 minutes by default. An unchanged selection costs a <c>304</c>.
    /// </summary>
    public TimeSpan SafetyNetInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The first delay before reconnecting after a failure; it doubles with each failure in a row. 1 second by default.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between reconnection attempts; 60 seconds by default.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a new watch stream may deliver no byte before it is taken for one a proxy buffers, and long-poll is used
    /// instead; 10 seconds by default.
    /// </summary>
    public TimeSpan StreamFirstByteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an open watch stream may stay silent before it is taken for dead and reopened; 45 seconds by default, three
    /// of the server's 15-second heartbeats.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How many watch streams in a row may fail before long-poll is used instead; 3 by default.</summary>
    public int StreamFailuresBeforeLongPoll { get; set; } = 3;

    /// <summary>How long long-poll stands in for a watch stream that did not work before the stream is tried again; 5 minutes by default.</summary>
    public TimeSpan StreamRetryInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the server holds a long-poll (at most 60 seconds); 30 seconds by default.</summary>
    public TimeSpan LongPollWait { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentException($"Refresh mode {Mode} is not one of Watch, LongPoll, Poll or Off.", nameof(Mode));
        }

        Positive(PollInterval, nameof(PollInterval));
        Positive(SafetyNetInterval, nameof(SafetyNetInterval));
        Positive(MinBackoff, nameof(MinBackoff));
        Positive(StreamFirstByteTimeout, nameof(StreamFirstByteTimeout));
        Positive(StreamIdleTimeout, nameof(StreamIdleTimeout));
        Positive(StreamRetryInterval, nameof(StreamRetryInterval));
        if (MaxBackoff < MinBackoff)
        {
            throw new ArgumentException("MaxBackoff is less than MinBackoff.", nameof(MaxBackoff));
        }

        if (StreamFailuresBeforeLongPoll < 1)
        {
            throw new ArgumentException("StreamFailuresBeforeLongPoll is at least 1.", nameof(StreamFailuresBeforeLongPoll));
        }

        if (LongPollWait < TimeSpan.Zero || LongPollWait > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentException("LongPollWait is between 0 and 60 seconds.", nameof(LongPollWait));
        }
    }

    internal static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{name} is positive.", name);
        }
    }
}
