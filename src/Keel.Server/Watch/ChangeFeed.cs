// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Microsoft.Extensions.Options;

namespace Keel.Server.Watch;

/// <summary>
/// The recent change feed in memory, shared by every watcher: a bounded ring of changes in revision order, and a signal that
/// completes whenever it advances. Watchers are level-triggered: each keeps only its own position and reads what is new when
/// woken, so a slow one holds nothing but that position and never delays a writer or another watcher.
/// </summary>
sealed class ChangeFeed(IOptions<ChangeFeedOptions> options)
{
    readonly Lock _lock = new();
    readonly ChangeEvent[] _ring = new ChangeEvent[options.Value.BufferedChanges];
    int _head;
    int _count;

    // Every change after _floor is in the ring, and the ring is complete through _through.
    long _floor = -1;
    long _through = -1;
    TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The revision through which the feed is complete; -1 until it has started.</summary>
    public long Through
    {
        get
        {
            lock (_lock)
            {
                return _through;
            }
        }
    }

    /// <summary>Starts (or restarts) the feed at <paramref name="revision"/>, empty.</summary>
    public void Reset(long revision)
    {
        TaskCompletionSource advanced;
        lock (_lock)
        {
            Array.Clear(_ring);
            _head = 0;
            _count = 0;
            _floor = revision;
            _through = revision;
            advanced = _advanced;
            _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        advanced.TrySetResult();
    }

    /// <summary>Appends changes read from the store after <see cref="Through"/>, complete through <paramref name="through"/>.</summary>
    public void Append(IReadOnlyList<ChangeEvent> changes, long through)
    {
        TaskCompletionSource advanced;
        lock (_lock)
        {
            if (through <= _through)
            {
                return;
            }

            foreach (var change in changes)
            {
                if (_count == _ring.Length)
                {
                    // The oldest change leaves; so does the completeness of its revision.
                    _floor = Math.Max(_floor, _ring[_head].Revision);
                    _head = (_head + 1) % _ring.Length;
                    _count--;
                }

                _ring[(_head + _count) % _ring.Length] = change;
                _count++;
            }

            _through = through;
            advanced = _advanced;
            _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        advanced.TrySetResult();
    }

    /// <summary>
    /// Copies the changes after <paramref name="after"/> into <paramref name="into"/>, at most about <paramref name="max"/> and
    /// whole revisions only.
    /// </summary>
    /// <returns>
    /// The revision through which the copy is complete, or <see langword="null"/> when changes after <paramref name="after"/>
    /// have left the ring (or the feed has not started) and must be read from the store.
    /// </returns>
    public long? TryRead(long after, List<ChangeEvent> into, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        lock (_lock)
        {
            if (_through < 0 || after < _floor)
            {
                return null;
            }

            if (after >= _through)
            {
                return after;
            }

            // Revisions in the ring ascend, so the first change after the position is found by bisection.
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (At(mid).Revision <= after)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            var end = lo;
            while (end < _count && (end - lo < max || (end > lo && At(end).Revision == At(end - 1).Revision)))
            {
                end++;
            }

            for (var i = lo; i < end; i++)
            {
                into.Add(At(i));
            }

            return end == _count ? _through : At(end - 1).Revision;
        }
    }

    /// <summary>Whether every change after <paramref name="after"/> is in memory, and the feed has reached it.</summary>
    public bool Holds(long after)
    {
        lock (_lock)
        {
            return _through >= 0 && after >= _floor && after <= _through;
        }
    }

    /// <summary>Completes once the feed is complete past <paramref name="after"/>.</summary>
    public Task WaitPastAsync(long after)
    {
        lock (_lock)
        {
            return _through > after ? Task.CompletedTask : _advanced.Task;
        }
    }

    ChangeEvent At(int index) => _ring[(_head + index) % _ring.Length];
}
