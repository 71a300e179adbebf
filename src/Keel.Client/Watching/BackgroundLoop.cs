// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Watching;

/// <summary>
/// The background loop of a configuration provider or flag client: run without the caller's execution context (so that
/// no request's activity or scope lives on in it), and stopped on dispose within moments.
/// </summary>
sealed class BackgroundLoop : IDisposable
{
    static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    readonly CancellationTokenSource _stopping = new();
    Task _running = Task.CompletedTask;

    /// <summary>Canceled when the loop is stopped.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void Start(Func<CancellationToken, Task> loop)
    {
        using (ExecutionContext.SuppressFlow())
        {
            _running = Task.Run(() => loop(_stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>Cancels the loop and waits for it to end, for at most five seconds.</summary>
    public void Stop()
    {
        _stopping.Cancel();
        try
        {
#pragma warning disable VSTHRD002 // Dispose, which calls this, is synchronous; the loop ends within moments of the cancellation.
            _running.Wait(StopWait);
#pragma warning restore VSTHRD002
        }
        catch (AggregateException)
        {
            // The loop's failures are logged as they happen.
        }
    }

    public void Dispose() => _stopping.Dispose();
}
