// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Changes;
using Microsoft.Extensions.Options;

namespace Keel.Server.Watch;

/// <summary>
/// The recent change feed in memory, shared by every watcher: a bounded ring of changes in revision order, each rendered once
/// for the streams, and the watchers waiting for what comes next. Watchers are level-triggered: each keeps only its own
/// position and reads what is new when woken, so a slow one holds nothing but that position and never delays a writer or
/// another watcher. A change wakes only the waiting watchers whose filters match it, found through an index by service and
/// environment; the others' positions move past it unread.
/// </summary>
sealed class ChangeFeed(IOptions<ChangeFeedOptions> options)
{
    readonly Lock _lock = new();
    readonly FeedChange[] _ring = new FeedChange[options.Value.BufferedChanges];
    int _head;
    int _count;

    // Every change after _floor is in the ring, and the ring is complete through _through.
    long _floor = -1;
    long _through = -1;
    TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The armed waiters: by the service and stored environment (or the service alone) their filters name, and those that
    // name no service. A change is matched against its own service's buckets and the unscoped one, never against the rest.
    readonly Dictionary<(string ServiceName, string? Environment), HashSet<ChangeWaiter>> _armed = [];
    readonly HashSet<ChangeWaiter> _armedUnscoped = [];

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

    /// <summary>Starts (or restarts) the feed at <paramref name="revision"/>, empty; every waiter wakes to read again.</summary>
    public void Reset(long revision)
    {
        TaskCompletionSource advanced;
        List<ChangeWaiter> woken = [];
        lock (_lock)
        {
            Array.Clear(_ring);
            _head = 0;
            _count = 0;
            _floor = revision;
            _through = revision;
            advanced = _advanced;
            _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var bucket in _armed.Values)
            {
                WakeAll(bucket, woken);
            }

            WakeAll(_armedUnscoped, woken);
            _armed.Clear();
        }

        advanced.TrySetResult();
        woken.ForEach(static w => w.Wake());
    }

    /// <summary>Appends changes read from the store after <see cref="Through"/>, complete through <paramref name="through"/>.</summary>
    public void Append(IReadOnlyList<ChangeEvent> changes, long through)
    {
        // Rendered before the lock: the bytes every stream copies.
        var rendered = new FeedChange[changes.Count];
        for (var i = 0; i < rendered.Length; i++)
        {
            rendered[i] = new FeedChange(changes[i]);
        }

        TaskCompletionSource advanced;
        List<ChangeWaiter>? woken = null;
        lock (_lock)
        {
            if (through <= _through)
            {
                return;
            }

            foreach (var change in rendered)
            {
                if (_count == _ring.Length)
                {
                    // The oldest change leaves; so does the completeness of its revision.
                    _floor = Math.Max(_floor, _ring[_head].Change.Revision);
                    _head = (_head + 1) % _ring.Length;
                    _count--;
                }

                _ring[(_head + _count) % _ring.Length] = change;
                _count++;
                WakeMatching(change.Change, ref woken);
            }

            _through = through;
            advanced = _advanced;
            _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        advanced.TrySetResult();
        woken?.ForEach(static w => w.Wake());
    }

    /// <summary>
    /// Copies the changes after <paramref name="after"/> that <paramref name="filter"/> matches (all of them without one) into
    /// <paramref name="into"/>, having looked at about <paramref name="max"/> changes at most, and whole revisions only.
    /// </summary>
    /// <returns>
    /// The revision through which the copy is complete, or <see langword="null"/> when changes after <paramref name="after"/>
    /// have left the ring (or the feed has not started) and must be read from the store.
    /// </returns>
    public long? TryRead(long after, List<FeedChange> into, int max, ChangeFilter? filter = null)
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

            var first = FirstAfter(after);
            var end = first;
            while (end < _count && (end - first < max || (end > first && At(end).Change.Revision == At(end - 1).Change.Revision)))
            {
                end++;
            }

            for (var i = first; i < end; i++)
            {
                if (filter is null || filter.Matches(At(i).Change))
                {
                    into.Add(At(i));
                }
            }

            return end == _count ? _through : At(end - 1).Change.Revision;
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

    /// <summary>Completes once the feed is complete past <paramref name="after"/>, whatever the change.</summary>
    public Task WaitPastAsync(long after)
    {
        lock (_lock)
        {
            return _through > after ? Task.CompletedTask : _advanced.Task;
        }
    }

    internal ValueTask WaitAsync(ChangeWaiter waiter, long after)
    {
        lock (_lock)
        {
            if (waiter.Armed)
            {
                throw new InvalidOperationException("The waiter is already waiting.");
            }

            waiter.ArmedAt = after;
            if (waiter.Interrupted)
            {
                waiter.Interrupted = false;
                return ValueTask.CompletedTask;
            }

            if (_through < 0 || after < _floor)
            {
                // What it missed has left memory: it reads again and learns so.
                return ValueTask.CompletedTask;
            }

            // Changes that arrived since the watcher read and match its filter are its to read; the rest it has seen.
            for (var i = after < _through ? FirstAfter(after) : _count; i < _count; i++)
            {
                if (waiter.Filter.Matches(At(i).Change))
                {
                    return ValueTask.CompletedTask;
                }
            }

            waiter.ArmedAt = Math.Max(after, _through);
            var wait = waiter.ArmAsync();
            if (waiter.Scope is { } scope)
            {
                if (!_armed.TryGetValue(scope, out var bucket))
                {
                    _armed[scope] = bucket = [];
                }

                waiter.Bucket = bucket;
            }
            else
            {
                waiter.Bucket = _armedUnscoped;
            }

            waiter.Bucket.Add(waiter);
            return wait;
        }
    }

    internal long Disarm(ChangeWaiter waiter)
    {
        lock (_lock)
        {
            if (!waiter.Armed)
            {
                // Woken by a change (or never armed): it reads from where it waited.
                return waiter.ArmedAt;
            }

            Release(waiter);
            return waiter.ArmedAt;
        }
    }

    internal void Interrupt(ChangeWaiter waiter)
    {
        lock (_lock)
        {
            if (!waiter.Armed)
            {
                waiter.Interrupted = true;
                return;
            }

            Release(waiter);
        }

        waiter.Wake();
    }

    /// <summary>Ends an armed wait that no change ended: nothing it matches has arrived since it armed, so it has seen the feed.</summary>
    void Release(ChangeWaiter waiter)
    {
        Remove(waiter);
        waiter.ArmedAt = Math.Max(waiter.ArmedAt, _through);
        waiter.Armed = false;
    }

    void WakeMatching(ChangeEvent change, ref List<ChangeWaiter>? woken)
    {
        if (_armed.Count > 0)
        {
            if (_armed.TryGetValue((change.Id.ServiceName, change.Id.Environment), out var environment))
            {
                WakeMatching(environment, change, ref woken);
            }

            if (_armed.TryGetValue((change.Id.ServiceName, null), out var service))
            {
                WakeMatching(service, change, ref woken);
            }
        }

        WakeMatching(_armedUnscoped, change, ref woken);
    }

    void WakeMatching(HashSet<ChangeWaiter> bucket, ChangeEvent change, ref List<ChangeWaiter>? woken)
    {
        var first = woken?.Count ?? 0;
        foreach (var waiter in bucket)
        {
            if (waiter.Filter.Matches(change))
            {
                (woken ??= []).Add(waiter);
            }
        }

        var matched = (woken?.Count ?? 0) - first;
        if (matched == 0)
        {
            return;
        }

        if (matched == bucket.Count)
        {
            // Every waiter of the bucket wakes, as when all watch one key: the bucket empties at once.
            Empty(bucket);
            if (ReferenceEquals(bucket, _armedUnscoped))
            {
                return;
            }

            _armed.Remove(woken![first].Scope!.Value);
            return;
        }

        for (var i = first; i < woken!.Count; i++)
        {
            Remove(woken[i]);
            woken[i].Armed = false;
        }
    }

    static void WakeAll(HashSet<ChangeWaiter> bucket, List<ChangeWaiter> woken)
    {
        woken.AddRange(bucket);
        Empty(bucket);
    }

    static void Empty(HashSet<ChangeWaiter> bucket)
    {
        foreach (var waiter in bucket)
        {
            waiter.Bucket = null;
            waiter.Armed = false;
        }

        bucket.Clear();
    }

    void Remove(ChangeWaiter waiter)
    {
        var bucket = waiter.Bucket!;
        bucket.Remove(waiter);
        waiter.Bucket = null;
        if (bucket.Count == 0 && waiter.Scope is { } scope)
        {
            _armed.Remove(scope);
        }
    }

    // Revisions in the ring ascend, so the first change after a position is found by bisection.
    int FirstAfter(long after)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (At(mid).Change.Revision <= after)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    FeedChange At(int index) => _ring[(_head + index) % _ring.Length];
}
