// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;

namespace Keel.Storage.Relational;

/// <summary>
/// Group commit: changes that arrive while a transaction is being committed queue up, and the next transaction runs all of them,
/// each in a savepoint of its own, and commits them with one flush. Each keeps its own revision and version, and each caller is
/// answered only once that commit is durable; a change that fails rolls back to its savepoint and fails alone, and a commit that
/// fails fails every change in it. The backend runs and commits the transaction (<c>commitGroup</c>, which runs the changes
/// with <see cref="RunEachAsync"/> and returns those that committed); each revision they took is raised as
/// <c>committed</c>, in order, and then their callers are answered.
/// </summary>
/// <remarks>
/// No thread waits for a batch to fill: the writer that finds no transaction running leads one at once, with whatever has
/// queued (often only its own change), so a lone writer commits as soon as it would alone. Under load, each flush carries every
/// change that queued during the one before.
/// </remarks>
sealed class GroupCommit<TWrite>(
    int maxChanges, Func<List<GroupCommit<TWrite>.Pending>, Task<List<GroupCommit<TWrite>.Pending>>> commitGroup, Action<long> committed)
    where TWrite : WriteTransaction
{
    readonly ConcurrentQueue<Pending> _queue = new();
    long _transactions;
    int _leading;

    /// <summary>The transactions committed so far; under load, fewer than the changes they held.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    public async Task<T> RunAsync<TState, T>(
        TState state, Func<TWrite, TState, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        // The last point where cancellation is honoured without a race: a change taken into a transaction runs to its end.
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending<TState, T>(state, work);
        _queue.Enqueue(pending);
        using var abandon = cancellationToken.Register(static p => ((Pending)p!).TryAbandon(), pending);
        if (Interlocked.CompareExchange(ref _leading, 1, 0) == 0)
        {
            // One batch here, then the rest elsewhere: this caller is answered as soon as its own change is durable.
            await LeadOneAsync().ConfigureAwait(false);
            if (!TryStepDown())
            {
                _ = Task.Run(LeadAsync, CancellationToken.None);
            }
        }

        return await pending.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs each change of <paramref name="batch"/> in the caller's transaction, a lone change as it is and each of several in a
    /// savepoint of its own (<see cref="WriteTransaction.BeginChangeAsync"/>), and returns those that succeeded; the caller
    /// commits, then returns them. A change that fails is undone and answered with its failure at once, unless
    /// <paramref name="endsTransaction"/> says the failure may have ended the transaction itself, which then fails them all.
    /// </summary>
    public static async Task<List<Pending>> RunEachAsync(List<Pending> batch, Func<TWrite> begin, Func<Exception, bool> endsTransaction)
    {
        var succeeded = new List<Pending>(batch.Count);
        if (batch.Count == 1)
        {
            await batch[0].RunAsync(begin()).ConfigureAwait(false);
            succeeded.Add(batch[0]);
            return succeeded;
        }

        foreach (var change in batch)
        {
            var write = begin();
            await write.BeginChangeAsync().ConfigureAwait(false);
            try
            {
                await change.RunAsync(write).ConfigureAwait(false);
            }
            catch (Exception e) when (!endsTransaction(e))
            {
                // Refused or conflicting: its statements are undone and the others' kept.
                await write.UndoChangeAsync().ConfigureAwait(false);
                change.Fail(e);
                continue;
            }

            await write.EndChangeAsync().ConfigureAwait(false);
            succeeded.Add(change);
        }

        return succeeded;
    }

    async Task LeadAsync()
    {
        do
        {
            await LeadOneAsync().ConfigureAwait(false);
        }
        while (!TryStepDown());
    }

    /// <summary>
    /// Gives up leading when nothing is queued, and says whether it did; a change queued just as it did is taken over again here,
    /// or by its own writer, which then finds no leader. Both sides fence between their two steps, so one of them sees the other.
    /// </summary>
    bool TryStepDown()
    {
        if (!_queue.IsEmpty)
        {
            return false;
        }

        Interlocked.Exchange(ref _leading, 0);
        return _queue.IsEmpty || Interlocked.CompareExchange(ref _leading, 1, 0) != 0;
    }

    async Task LeadOneAsync()
    {
        var batch = new List<Pending>();
        while (batch.Count < maxChanges && _queue.TryDequeue(out var next))
        {
            if (next.TryClaim())
            {
                batch.Add(next);
            }
        }

        if (batch.Count > 0)
        {
            try
            {
                var changes = await commitGroup(batch).ConfigureAwait(false);
                Interlocked.Increment(ref _transactions);
                foreach (var change in changes)
                {
                    if (change.Revision is { } revision)
                    {
                        committed(revision);
                    }
                }

                foreach (var change in changes)
                {
                    change.Complete();
                }
            }
            catch (Exception e)
            {
                foreach (var change in batch)
                {
                    change.Fail(e);
                }
            }
        }
    }

    /// <summary>A queued change: its work, and the caller's answer, set once its transaction commits or it fails.</summary>
    public abstract class Pending
    {
        const int Queued = 0, Claimed = 1, Abandoned = 2;
        int _state;

        /// <summary>The revision the change took, if it took one.</summary>
        public long? Revision { get; private set; }

        /// <summary>Takes the change into a transaction, unless its caller gave up waiting first.</summary>
        public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Queued) == Queued;

        public void TryAbandon()
        {
            if (Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued)
            {
                Cancel();
            }
        }

        /// <summary>Runs the change in <paramref name="write"/>; its caller is answered later, by <see cref="Complete"/> or <see cref="Fail"/>.</summary>
        public async Task RunAsync(TWrite write)
        {
            await RunWorkAsync(write).ConfigureAwait(false);
            Revision = write.Revision;
        }

        protected abstract Task RunWorkAsync(TWrite write);

        public abstract void Complete();

        public abstract void Fail(Exception error);

        protected abstract void Cancel();
    }

    sealed class Pending<TState, T>(TState state, Func<TWrite, TState, CancellationToken, Task<T>> work) : Pending
    {
        readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        T? _result;

        public Task<T> Task => _answer.Task;

        protected override async Task RunWorkAsync(TWrite write) =>
            _result = await work(write, state, CancellationToken.None).ConfigureAwait(false);

        public override void Complete() => _answer.TrySetResult(_result!);

        public override void Fail(Exception error) => _answer.TrySetException(error);

        protected override void Cancel() => _answer.TrySetCanceled();
    }
}
