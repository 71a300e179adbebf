// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Threading.Tasks.Sources;

namespace Keel.Server.Watch;

/// <summary>
/// One watcher's wait for changes: the feed wakes it only for a change its filter matches, and otherwise moves its position
/// past the changes it would have skipped, so that thousands of watchers of other keys cost a change nothing but a lookup.
/// </summary>
/// <remarks>
/// One wait at a time: <see cref="WaitAsync"/>, awaited once, then <see cref="Disarm"/>. The wait is a reusable value-task
/// source, so that waiting for a change allocates nothing however many streams wait.
/// </remarks>
sealed class ChangeWaiter(ChangeFeed feed, ChangeFilter filter) : IValueTaskSource, IDisposable
{
    ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    volatile bool _armed;

    public ChangeFilter Filter => filter;

    /// <summary>The feed's index entry: the stored service and environment the filter names, when it names them.</summary>
    internal (string ServiceName, string? Environment)? Scope { get; } =
        filter.ServiceName is { } service ? (service, filter.StoredEnvironment) : null;

    // Set under the feed's lock; read without it only by the waiting stream once its wait has ended.
    internal bool Armed
    {
        get => _armed;
        set => _armed = value;
    }

    internal long ArmedAt { get; set; }

    internal HashSet<ChangeWaiter>? Bucket { get; set; }

    internal bool Interrupted { get; set; }

    /// <summary>Completes when a change after <paramref name="after"/> that the filter matches is in the feed, or the feed restarts.</summary>
    public ValueTask WaitAsync(long after) => feed.WaitAsync(this, after);

    /// <summary>
    /// Ends the wait now, or the next one at once if none is under way: how a stream's heartbeat (or its end) wakes it without a
    /// second task to wait on beside the feed.
    /// </summary>
    public void Interrupt() => feed.Interrupt(this);

    /// <summary>Ends the wait; returns the position to read after next (past every change the wait skipped).</summary>
    public long Disarm() => _armed ? feed.Disarm(this) : ArmedAt;

    public void Dispose() => feed.Disarm(this);

    /// <summary>Starts a wait that <see cref="Wake"/> ends; under the feed's lock.</summary>
    internal ValueTask ArmAsync()
    {
        _core.Reset();
        _armed = true;
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Ends the wait <see cref="ArmAsync"/> started; once per wait, by whoever disarmed it under the feed's lock.</summary>
    internal void Wake() => _core.SetResult(true);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
