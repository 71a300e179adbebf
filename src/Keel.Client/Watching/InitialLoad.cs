// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Client.Configuration;
using Keel.Client.Http;

namespace Keel.Client.Watching;

/// <summary>
/// The first load of a provider or flag client: transient failures are retried with backoff (or after the server's
/// <c>Retry-After</c>) until <see cref="KeelStartupOptions.Timeout"/>; a refused token and a failure that retrying cannot
/// mend end it at once.
/// </summary>
static class InitialLoad
{
    /// <summary>Runs <paramref name="load"/> until it succeeds or may not be retried.</summary>
    /// <returns><see langword="null"/> when it succeeded, else the failure that ended the attempts.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static async Task<Exception?> RunAsync(
        Func<CancellationToken, Task> load, KeelStartupOptions startup, KeelRefreshOptions refresh, TimeProvider time, Action<Exception> failed,
        CancellationToken cancellationToken = default)
    {
        using var deadline = new CancellationTokenSource(startup.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        Exception? error = null;
        var failures = 0;
        while (true)
        {
            try
            {
                await load(timeout.Token).ConfigureAwait(false);
                return null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
            {
                return error ?? e;
            }
            catch (KeelHttpException e) when (e.IsDenied || !e.IsTransient)
            {
                return e;
            }
            catch (KeelConfigurationException e)
            {
                return e;
            }
            catch (Exception e) when (e is HttpRequestException or KeelHttpException or IOException or JsonException or InvalidDataException or OperationCanceledException)
            {
                error = e;
                failed(e);
                failures++;
                var delay = (e as KeelHttpException)?.RetryAfter ?? Backoff.Delay(failures, refresh.MinBackoff, refresh.MaxBackoff);
                try
                {
                    await Task.Delay(delay, time, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return error;
                }
            }
        }
    }
}
