// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Hosting;

/// <summary>
/// Wakes one background loop: any number of <see cref="Set"/> calls while it works collapse into one wake-up, and its wait
/// ends on a signal, a timeout on the host's clock, or cancellation.
/// </summary>
sealed class WakeSignal
{
    readonly Lock _lock = new();
    TaskCompletionSource _signaled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set()
    {
        lock (_lock)
        {
            _signaled.TrySetResult();
        }
    }

    /// <summary>Waits for a signal set since the last wait returned, at most <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        Task signaled;
        lock (_lock)
        {
            signaled = _signaled.Task;
        }

        if (!signaled.IsCompleted && timeout > TimeSpan.Zero)
        {
            using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(signaled, Task.Delay(timeout, timeProvider, delay.Token)).ConfigureAwait(false);
            await delay.CancelAsync().ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (_signaled.Task.IsCompleted)
            {
                _signaled = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }
}
