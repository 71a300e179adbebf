// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Keel.Core;
using Keel.Core.Changes;
using Keel.Core.Security;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Keel.Server.Watch;

/// <summary>
/// <c>GET /api/v1/watch</c>, a Server-Sent Events stream of changes, and <c>GET /api/v1/changes</c>, its long-poll twin for
/// clients and proxies that cannot hold a stream open. Both need <c>read</c> and see only changes their token's scopes cover.
/// </summary>
static class WatchEndpoints
{
    const string StreamKind = "sse";
    const string LongPollKind = "long_poll";

    static readonly byte[] Heartbeat = ": heartbeat\n"u8.ToArray();

    // Far more than a timer's earliness, and less than any lifetime worth waiting out.
    static readonly TimeSpan EarlyTimerBound = TimeSpan.FromSeconds(1);

    public static IEndpointRouteBuilder MapWatchEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/watch", WatchAsync)
            .WithTags("Watch")
            .RequireAuthorization(KeelPolicies.Read)
            .CheckRoutes()
            .WithName("Watch")
            .WithSummary("Streams changes as Server-Sent Events, resuming after Last-Event-ID or since_revision; filtered by service_name, environment, keys and prefix.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        endpoints.MapGet("/api/v1/changes", ChangesAsync)
            .WithTags("Watch")
            .RequireAuthorization(KeelPolicies.Read)
            .CheckRoutes()
            .WithName("LongPollChanges")
            .WithSummary("Answers the changes after since_revision at once, or holds up to wait seconds (at most 60) for one; same filters as /api/v1/watch.");
        return endpoints;
    }

    static async Task<Results<JsonHttpResult<ChangesResponse>, ProblemHttpResult>> ChangesAsync(
        HttpContext httpContext,
        ChangeReader reader,
        WatchAdmission admission,
        TokenRegistry tokens,
        IOptions<WatchOptions> options,
        TimeProvider timeProvider,
        IHostApplicationLifetime host,
        CancellationToken cancellationToken)
    {
        var filter = ChangeFilter.FromQuery(httpContext);
        var since = QueryParameters.Integer(httpContext.Request.Query, "since_revision", 0, long.MaxValue);
        var wait = TimeSpan.FromSeconds(
            QueryParameters.Integer(httpContext.Request.Query, "wait", WatchOptions.DefaultWaitSeconds, 0, WatchOptions.MaxWaitSeconds));
        var position = since ?? reader.Feed.Through;
        if (since is not null && await reader.CheckStartAsync(position, cancellationToken) is { } gone)
        {
            return Gone(position, gone);
        }

        var token = filter.Token;
        using var lease = admission.TryEnter(LongPollKind, token.Id, httpContext.ClientAddress() ?? IPAddress.None, out var refusal);
        if (lease is null)
        {
            return Refused(httpContext, refusal, token, options.Value);
        }

        httpContext.Response.Headers.CacheControl = "no-store";
        var revoked = tokens.RevocationToken(token);
        var deadline = timeProvider.GetUtcNow() + wait;
        using var waiter = new ChangeWaiter(reader.Feed, filter);
        while (true)
        {
            var read = await reader.ReadAsync(position, filter, fromStore: true, cancellationToken);

            // After the read: a change written after a revocation is read only once the revocation is published, so this
            // check sees it, and a revoked (or expired) token gets nothing, not even the empty answer.
            if (!tokens.IsStillActive(token))
            {
                return TokenInactive(httpContext);
            }

            if (read.Gone is { } page)
            {
                return Gone(position, page);
            }

            position = read.Through;
            if (read.Changes.Count > 0)
            {
                return Answer(read.Changes, position);
            }

            if (position < reader.Feed.Through)
            {
                continue;
            }

            var now = timeProvider.GetUtcNow();
            if (deadline <= now)
            {
                return Answer([], position);
            }

            // A stopping server answers what it has rather than hold the poll to its end; a revocation ends the wait at once,
            // and an expiry when it comes.
            var wakeAt = token.ExpiresAt is { } expires && expires < deadline ? expires : deadline;
            var advanced = waiter.WaitAsync(position).AsTask();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, host.ApplicationStopping, revoked);
            await Task.WhenAny(advanced, Task.Delay(wakeAt > now ? wakeAt - now : TimeSpan.Zero, timeProvider, timeout.Token));
            position = waiter.Disarm();
            cancellationToken.ThrowIfCancellationRequested();
            if (host.ApplicationStopping.IsCancellationRequested)
            {
                deadline = timeProvider.GetUtcNow();
            }

            await timeout.CancelAsync();
        }

        static JsonHttpResult<ChangesResponse> Answer(List<FeedChange> changes, long revision) => TypedResults.Json(
            new ChangesResponse(changes.ConvertAll(static c => ChangeEventResponse.From(c.Change)), revision), KeelJson.Context.ChangesResponse);
    }

    static async Task WatchAsync(
        HttpContext httpContext,
        ChangeReader reader,
        WatchAdmission admission,
        WatchMetrics metrics,
        TokenRegistry tokens,
        IOptions<WatchOptions> options,
        TimeProvider timeProvider,
        IHostApplicationLifetime host,
        ILogger<ChangeFeedPump> logger)
    {
        var filter = ChangeFilter.FromQuery(httpContext);
        var since = LastEventId(httpContext) ?? QueryParameters.Integer(httpContext.Request.Query, "since_revision", 0, long.MaxValue);
        var aborted = httpContext.RequestAborted;
        var position = since ?? reader.Feed.Through;
        if (since is not null && await reader.CheckStartAsync(position, aborted) is { } gone)
        {
            await Gone(position, gone).ExecuteAsync(httpContext);
            return;
        }

        var o = options.Value;
        var token = filter.Token;
        using var lease = admission.TryEnter(StreamKind, token.Id, httpContext.ClientAddress() ?? IPAddress.None, out var refusal);
        if (lease is null)
        {
            await Refused(httpContext, refusal, token, o).ExecuteAsync(httpContext);
            return;
        }

        var reason = "client_closed";
        var revoked = tokens.RevocationToken(token);
        using var lifetime = new CancellationTokenSource(Lifetime(o, token, timeProvider), timeProvider);
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime.Token, host.ApplicationStopping, revoked);
        using var write = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        using var waiter = new ChangeWaiter(reader.Feed, filter);
        try
        {
            var response = httpContext.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var body = response.BodyWriter;

            // A write that outlasts its timeout is a client that stopped reading: its pending flush is cancelled.
            using var writeTimedOut = write.Token.UnsafeRegister(static b => ((PipeWriter)b!).CancelPendingFlush(), body);

            // The first bytes tell the client the stream is open, and EventSource how long to wait before reconnecting.
            Write(body, string.Create(CultureInfo.InvariantCulture, $"retry: {(long)o.ReconnectDelay.TotalMilliseconds}\n\n"));
            await FlushAsync(body, write, o.WriteTimeout, stream.Token);

            var sentId = since ?? -1;
            var caughtUp = false;
            var heartbeat = NextHeartbeatAsync();
            while (!stream.IsCancellationRequested)
            {
                var read = await reader.ReadAsync(position, filter, fromStore: !caughtUp, stream.Token);

                // After the read, as in the long-poll: nothing written after a revocation reaches the token.
                if (!tokens.IsStillActive(token))
                {
                    reason = "token_inactive";
                    break;
                }

                if (read.Gone is not null)
                {
                    reason = "compacted";
                    break;
                }

                if (read.Lagging)
                {
                    // Fell out of the in-memory feed while connected: it reconnects with its last id and catches up from the store.
                    reason = "lagging";
                    break;
                }

                caughtUp |= read.Through >= reader.Feed.Through;
                if (read.Changes.Count > 0)
                {
                    WriteChanges(body, read.Changes);
                    sentId = read.Changes[^1].Change.Revision;
                    await FlushAsync(body, write, o.WriteTimeout, stream.Token);
                }

                position = read.Through;
                if (position < reader.Feed.Through)
                {
                    continue;
                }

                if (!heartbeat.IsCompleted)
                {
                    await waiter.WaitAsync(position);
                    position = waiter.Disarm();
                }

                if (heartbeat.IsCompleted && !stream.IsCancellationRequested && tokens.IsStillActive(token))
                {
                    // The heartbeat also moves the client's Last-Event-ID to the position, without an event, so that one that
                    // watches rarely changing keys resumes from a recent revision rather than one long compacted.
                    body.Write(Heartbeat);
                    if (position > sentId)
                    {
                        Write(body, string.Create(CultureInfo.InvariantCulture, $"id: {position}\n"));
                        sentId = position;
                    }

                    body.Write("\n"u8);
                    await FlushAsync(body, write, o.WriteTimeout, stream.Token);
                    heartbeat = NextHeartbeatAsync();
                }
            }

            if (!aborted.IsCancellationRequested && stream.IsCancellationRequested)
            {
                reason = await EndReasonAsync();
            }
        }
        catch (OperationCanceledException) when (write.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            // The client stopped reading and its buffer is full: drop it rather than hold its writes.
            reason = "slow_consumer";
            httpContext.Abort();
        }
        catch (OperationCanceledException) when (stream.IsCancellationRequested)
        {
            reason = await EndReasonAsync();
        }
        finally
        {
            metrics.StreamEnded(reason);
            Log.WatchStreamEnded(logger, token.Id, reason);
        }

        // The heartbeat (or the stream's end, which cancels it) interrupts the wait for changes, so that a stream waits on one
        // task, not on a second one beside it for every change.
        Task NextHeartbeatAsync()
        {
            var delay = Task.Delay(o.HeartbeatInterval, timeProvider, stream.Token);
            _ = delay.ContinueWith(
                static (_, w) => ((ChangeWaiter)w!).Interrupt(), waiter, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return delay;
        }

        async Task<string> EndReasonAsync()
        {
            if (lifetime.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                await UntilExpiredAsync(token, timeProvider, aborted);
            }

            return EndReason();
        }

        string EndReason() =>
            aborted.IsCancellationRequested ? "client_closed"
            : revoked.IsCancellationRequested || !tokens.IsStillActive(token) ? "token_inactive"
            : lifetime.IsCancellationRequested ? "lifetime"
            : "server_stopping";
    }

    /// <summary>
    /// Timers run on a coarser clock than the one a token's expiry is read against and can fire a few milliseconds early: a
    /// stream that its token's expiry ends closes only once the token has expired, so that a client reconnecting at once is refused.
    /// </summary>
    static async Task UntilExpiredAsync(AccessToken token, TimeProvider timeProvider, CancellationToken aborted)
    {
        while (token.ExpiresAt is { } expires && expires - timeProvider.GetUtcNow() is var left && left > TimeSpan.Zero && left < EarlyTimerBound)
        {
            await Task.Delay(left + TimeSpan.FromMilliseconds(1), timeProvider, aborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (aborted.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>A stream lives at most <see cref="WatchOptions.MaxStreamLifetime"/>, and never past its token's expiry.</summary>
    static TimeSpan Lifetime(WatchOptions options, AccessToken token, TimeProvider timeProvider)
    {
        if (token.ExpiresAt is { } expires && expires - timeProvider.GetUtcNow() is var left && left < options.MaxStreamLifetime)
        {
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }

        return options.MaxStreamLifetime;
    }

    static long? LastEventId(HttpContext httpContext)
    {
        var values = httpContext.Request.Headers["Last-Event-ID"];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        throw QueryParameters.Invalid("Last-Event-ID", "Last-Event-ID must be a revision: an id from this stream.");
    }

    /// <summary>Writes events; only the last event of each revision carries its <c>id</c>, so a resume never splits a revision.</summary>
    internal static void WriteChanges(IBufferWriter<byte> body, List<FeedChange> changes)
    {
        for (var i = 0; i < changes.Count; i++)
        {
            if (i == changes.Count - 1 || changes[i + 1].Change.Revision != changes[i].Change.Revision)
            {
                body.Write(changes[i].Frame);
            }
            else
            {
                body.Write(changes[i].LinesWithoutId);
                body.Write("\n"u8);
            }
        }
    }

    static void Write(IBufferWriter<byte> body, string text) => Encoding.UTF8.GetBytes(text, body);

    /// <summary>
    /// Flushes the stream; a flush the client's reading does not complete within <paramref name="timeout"/> is cancelled
    /// (<paramref name="write"/> cancels it) and ends the stream. Most flushes complete at once, and arm no timer.
    /// </summary>
    static async ValueTask FlushAsync(PipeWriter body, CancellationTokenSource write, TimeSpan timeout, CancellationToken stream)
    {
        var flush = body.FlushAsync(stream);
        FlushResult result;
        if (flush.IsCompletedSuccessfully)
        {
            result = flush.Result;
        }
        else
        {
            write.CancelAfter(timeout);
            try
            {
                result = await flush;
            }
            finally
            {
                // A flush that beat its timeout disarms it and leaves the source reusable (TryReset does so only on the system's clock).
                write.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }

        if (result.IsCanceled || write.IsCancellationRequested)
        {
            stream.ThrowIfCancellationRequested();
            throw new OperationCanceledException(write.Token);
        }
    }

    static ProblemHttpResult Gone(long since, ChangeFeedPage page)
    {
        var problem = page.Status == ChangeFeedStatus.Compacted
            ? Problems.Create(
                KeelError.RevisionCompacted,
                string.Create(CultureInfo.InvariantCulture, $"Changes after revision {since} are no longer kept (the feed starts after revision {page.CompactedRevision}). Re-read GET /api/v1/config/{{service_name}}/{{environment}} and resume from its revision."))
            : Problems.Create(
                KeelError.RevisionAhead,
                string.Create(CultureInfo.InvariantCulture, $"Revision {since} is ahead of the store's current revision {page.CurrentRevision}; the store may have been restored. Re-read GET /api/v1/config/{{service_name}}/{{environment}} and resume from its revision."));
        problem.Extensions["compacted_revision"] = page.CompactedRevision;
        problem.Extensions["current_revision"] = page.CurrentRevision;
        return TypedResults.Problem(problem);
    }

    static ProblemHttpResult Refused(HttpContext httpContext, WatchCap cap, AccessToken token, WatchOptions options)
    {
        // Long-polls end within a minute and give their slots back, so a retry in seconds often finds one free.
        httpContext.Response.Headers.RetryAfter = "5";
        return cap switch
        {
            WatchCap.Token => Problems.Result(
                KeelError.WatcherQuotaExceeded,
                string.Create(CultureInfo.InvariantCulture, $"Token '{token.Name}' holds as many streams and long-polls as one token may ({options.MaxWatchersPerToken}, Keel:Watch:MaxWatchersPerToken); end one of them, or retry later.")),
            WatchCap.ClientAddress => Problems.Result(
                KeelError.WatcherQuotaExceeded,
                string.Create(CultureInfo.InvariantCulture, $"This client address holds as many streams and long-polls as one address may, whatever their tokens ({options.MaxWatchersPerClientAddress}, Keel:Watch:MaxWatchersPerClientAddress); end one of them, or retry later.")),
            _ => Problems.Result(
                KeelError.TooManyWatchers,
                "The server holds as many watchers as it is configured to (Keel:Watch:MaxWatchers); retry later or on another node."),
        };
    }

    static ProblemHttpResult TokenInactive(HttpContext httpContext)
    {
        httpContext.Response.Headers.WWWAuthenticate = TokenAuthenticationHandler.InvalidTokenChallenge;
        return Problems.Result(KeelError.Unauthorized, "The token was revoked or expired while the long-poll waited; it gets no changes.");
    }
}
