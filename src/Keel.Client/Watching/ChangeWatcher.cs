// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Keel.Client.Configuration;
using Keel.Client.Diagnostics;
using Keel.Client.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Client.Watching;

/// <summary>
/// The background loop that keeps one <see cref="IChangeTarget"/> current: a watch stream from the target's revision,
/// long-polls where streams do not get through, conditional reads when polling and as a safety net, with jittered
/// exponential backoff between failed attempts.
/// </summary>
/// <remarks>
/// Changes are applied a whole revision at a time: the server marks the last event of a revision with its <c>id</c>, and
/// long-poll answers end on a revision boundary. A stream is given up for long-poll after
/// <see cref="KeelRefreshOptions.StreamFailuresBeforeLongPoll"/> failures in a row, at once when the watch endpoint is
/// missing (404, 405) or the first byte does not come (a proxy that buffers), and tried again after
/// <see cref="KeelRefreshOptions.StreamRetryInterval"/>. A <c>410</c> (the revision is compacted) reads the snapshot again.
/// </remarks>
sealed class ChangeWatcher(KeelApi api, WatchQuery query, IChangeTarget target, KeelRefreshOptions options, TimeProvider time, string kind)
{
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Runs until <paramref name="stopping"/> is canceled, from <paramref name="revision"/> (after reading everything when null).</summary>
    public async Task RunAsync(long? revision, CancellationToken stopping)
    {
        if (options.Mode == KeelRefreshMode.Off)
        {
            return;
        }

        using var safetyNet = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var safetyNetLoop = options.Mode == KeelRefreshMode.Poll ? Task.CompletedTask : SafetyNetAsync(safetyNet.Token);
        try
        {
            await WatchAsync(revision, stopping).ConfigureAwait(false);
        }
        finally
        {
            await safetyNet.CancelAsync().ConfigureAwait(false);
            await safetyNetLoop.ConfigureAwait(false);
        }
    }

    async Task WatchAsync(long? revision, CancellationToken stopping)
    {
        var failures = 0;
        var streamFailures = 0;
        DateTimeOffset? longPollUntil = options.Mode == KeelRefreshMode.LongPoll ? DateTimeOffset.MaxValue : null;
        while (!stopping.IsCancellationRequested)
        {
            var delay = TimeSpan.Zero;
            var streaming = false;
            try
            {
                if (revision is null)
                {
                    revision = await target.ReloadAsync(conditional: false, stopping).ConfigureAwait(false);
                    target.Succeeded(CurrentTransport(longPollUntil), revision.Value);
                }

                if (options.Mode == KeelRefreshMode.Poll)
                {
                    await Task.Delay(options.PollInterval, time, stopping).ConfigureAwait(false);
                    revision = await target.ReloadAsync(conditional: true, stopping).ConfigureAwait(false);
                    target.Succeeded(KeelTransport.Poll, revision.Value);
                }
                else if (longPollUntil is null || time.GetUtcNow() >= longPollUntil)
                {
                    if (longPollUntil is not null)
                    {
                        Log.StreamRetried(Logger, kind, query.ServiceName, query.Environment);
                        longPollUntil = null;
                    }

                    streaming = true;
                    revision = await StreamAsync(revision.Value, () => failures = streamFailures = 0, stopping).ConfigureAwait(false);

                    // The server ended the stream (its lifetime, a restart): come back within a second, spread out.
                    delay = Backoff.Spread(options.MinBackoff);
                    Log.StreamEnded(Logger, kind, query.ServiceName, query.Environment, revision.Value);
                }
                else
                {
                    var answer = await api.GetChangesAsync(query, revision, options.LongPollWait, stopping).ConfigureAwait(false);
                    if (answer.Changes.Count > 0)
                    {
                        await target.ApplyAsync(answer.Changes, answer.Revision, stopping).ConfigureAwait(false);
                    }

                    revision = answer.Revision;
                    failures = 0;
                    target.Succeeded(KeelTransport.LongPoll, revision.Value);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (KeelHttpException e) when (e.IsGone)
            {
                Log.RevisionGone(Logger, kind, query.ServiceName, query.Environment, revision ?? 0);
                revision = null;
            }
            catch (Exception e) when (e is HttpRequestException or KeelHttpException or IOException or JsonException or InvalidDataException
                                          or TimeoutException or StreamStalledException or OperationCanceledException or KeelConfigurationException)
            {
                failures++;
                target.Failed(e);
                ClientMetrics.Reconnects.Add(1, new KeyValuePair<string, object?>("kind", kind));
                // A server that cannot be reached says nothing of whether its streams get through.
                if (streaming && e is not HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
                {
                    streamFailures++;
                    if (e is StreamStalledException || e is KeelHttpException { Status: HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed }
                        || streamFailures >= options.StreamFailuresBeforeLongPoll)
                    {
                        longPollUntil = time.GetUtcNow() + options.StreamRetryInterval;
                        streamFailures = 0;
                        Log.FellBackToLongPoll(Logger, kind, query.ServiceName, query.Environment, e.GetType().Name);
                        target.Switched(KeelTransport.LongPoll);

                        // Long-poll does not wait for the backoff: the server is there, only its stream is not.
                        failures = e is StreamStalledException ? 0 : failures;
                    }
                }

                delay = e switch
                {
                    KeelHttpException { RetryAfter: { } retryAfter } => retryAfter > options.MaxBackoff ? options.MaxBackoff : retryAfter,
                    KeelHttpException { IsDenied: true } => options.MaxBackoff,
                    _ when failures == 0 => TimeSpan.Zero,
                    _ => Backoff.Delay(failures, options.MinBackoff, options.MaxBackoff),
                };
                Log.AttemptFailed(Logger, kind, query.ServiceName, query.Environment, failures, delay, e);
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        KeelTransport CurrentTransport(DateTimeOffset? until) => options.Mode switch
        {
            KeelRefreshMode.Poll => KeelTransport.Poll,
            _ when until is not null => KeelTransport.LongPoll,
            _ => KeelTransport.Watch,
        };
    }

    /// <summary>Reads one watch stream to its end, applying each whole revision; returns the revision to resume from.</summary>
    async Task<long> StreamAsync(long revision, Action connected, CancellationToken stopping)
    {
        using var deadline = new CancellationTokenSource(options.StreamFirstByteTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token);
        ActivityStream? body = null;
        try
        {
            using var response = await api.OpenWatchAsync(query, revision, linked.Token).ConfigureAwait(false);
            var opened = revision;
            body = new ActivityStream(
                await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false),
                deadline,
                options.StreamIdleTimeout,
                () =>
                {
                    connected();
                    target.Succeeded(KeelTransport.Watch, opened);
                });
            await using var _ = body.ConfigureAwait(false);
            var parser = SseParser.Create(body);
            var pending = new List<ChangeItem>();
            await foreach (var item in parser.EnumerateAsync(linked.Token).ConfigureAwait(false))
            {
                if (!string.IsNullOrEmpty(item.Data))
                {
                    pending.Add(JsonSerializer.Deserialize(item.Data, KeelWireContext.Default.ChangeItem) ?? throw new InvalidDataException("An empty change event."));
                }

                if (ParseId(item.EventId) is { } id)
                {
                    if (pending.Count > 0)
                    {
                        await target.ApplyAsync(pending, id, stopping).ConfigureAwait(false);
                        pending.Clear();
                    }

                    revision = Math.Max(revision, id);
                    target.Succeeded(KeelTransport.Watch, revision);
                }
            }

            // A heartbeat carries the revision the stream read through past filtered-out changes, with no event to show it.
            if (pending.Count == 0 && ParseId(parser.LastEventId) is { } last && last > revision)
            {
                revision = last;
                target.Succeeded(KeelTransport.Watch, revision);
            }

            return revision;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            if (body is { Received: true })
            {
                throw new TimeoutException($"The watch stream was silent for {options.StreamIdleTimeout}.");
            }

            throw new StreamStalledException($"The watch stream delivered no byte within {options.StreamFirstByteTimeout}; a proxy may buffer it.");
        }
    }

    async Task SafetyNetAsync(CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await Task.Delay(options.SafetyNetInterval, time, stopping).ConfigureAwait(false);
                await target.ReloadAsync(conditional: true, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or KeelHttpException or IOException or JsonException or InvalidDataException or OperationCanceledException)
            {
                Log.SafetyNetFailed(Logger, kind, query.ServiceName, query.Environment, e);
            }
        }
    }

    static long? ParseId(string? id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>A watch stream delivered nothing at all: something between client and server holds it back.</summary>
sealed class StreamStalledException(string message) : Exception(message);
