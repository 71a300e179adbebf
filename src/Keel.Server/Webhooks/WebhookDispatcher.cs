// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Core;
using Keel.Core.Flags;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Server.Hosting;
using Keel.Server.Http;
using Microsoft.Extensions.Options;

namespace Keel.Server.Webhooks;

/// <summary>
/// Sends the outbox: each subscription's oldest due delivery, signed, one at a time per subscription so that its deliveries
/// keep their order, several subscriptions at once. A failure is retried with exponential backoff and jitter until the
/// attempts run out; then the delivery is dead until redelivered. Delivery is at least once: an attempt that succeeded but
/// was not recorded (the process died in between) is made again, with the same <c>X-Keel-Delivery</c>.
/// </summary>
sealed class WebhookDispatcher : BackgroundService
{
    readonly IWebhookStore _store;
    readonly IChangeFeedStore _changes;
    readonly WebhookOptions _options;
    readonly TimeProvider _timeProvider;
    readonly ILogger<WebhookDispatcher> _logger;
    readonly HttpClient _http;
    readonly WakeSignal _signal = new();
    readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);

    public WebhookDispatcher(
        IWebhookStore store,
        IChangeFeedStore changes,
        WebhookTargets targets,
        IOptions<WebhookOptions> options,
        TimeProvider timeProvider,
        ILogger<WebhookDispatcher> logger)
    {
        _store = store;
        _changes = changes;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;

        // An own client rather than IHttpClientFactory's: its logging would write webhook URLs, which may carry secrets in
        // their query. No proxy, no redirects: both would route around the address check in ConnectCallback.
#pragma warning disable CA2000 // The client owns the handler (disposeHandler defaults to true) and is disposed with the dispatcher.
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = targets.ConnectAsync,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = _options.Timeout,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
#pragma warning restore CA2000
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Keel-Webhooks", "1"));
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _changes.Committed += OnCommitted;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _changes.Committed -= OnCommitted;
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    void OnCommitted(long revision) => _signal.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        List<Task> running = [];
        var nextPrune = _timeProvider.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                running.RemoveAll(t => t.IsCompleted);
                var now = _timeProvider.GetUtcNow();
                string[] busy;
                lock (_inFlight)
                {
                    busy = [.. _inFlight];
                }

                var free = _options.MaxConcurrentDeliveries - busy.Length;
                if (free > 0)
                {
                    foreach (var due in await _store.TakeDueDeliveriesAsync(now, _options.LeaseDuration, free, busy, stoppingToken))
                    {
                        lock (_inFlight)
                        {
                            _inFlight.Add(due.Delivery.SubscriptionId);
                        }

                        running.Add(Task.Run(() => DeliverAsync(due, stoppingToken), CancellationToken.None));
                    }
                }

                if (now >= nextPrune)
                {
                    nextPrune = now + TimeSpan.FromHours(1);
                    await _store.PruneDeliveriesAsync(now - _options.DeliveryRetention, stoppingToken);
                }

                lock (_inFlight)
                {
                    busy = [.. _inFlight];
                }

                var next = await _store.GetNextDueAsync(busy, stoppingToken);
                wait = next is { } at ? at - _timeProvider.GetUtcNow() : _options.PollInterval;
                wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _options.PollInterval ? _options.PollInterval : wait;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is StoreUnavailableException or InvalidOperationException or IOException)
            {
                Log.WebhookOutboxFailed(_logger, e);
                wait = _options.PollInterval;
            }

            try
            {
                await _signal.WaitAsync(wait, _timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    async Task DeliverAsync(DueDelivery due, CancellationToken stoppingToken)
    {
        var delivery = due.Delivery;
        try
        {
            var attempt = delivery.Attempts + 1;
            var (succeeded, statusCode, error) = due.Secret is null
                ? (false, (int?)null, "the subscription's signing secret fails to decrypt")
                : await SendAsync(due, attempt, stoppingToken);
            var now = _timeProvider.GetUtcNow();
            var retryAt = succeeded || attempt >= _options.MaxAttempts ? (DateTimeOffset?)null : now + Backoff(attempt);
            await _store.RecordAttemptAsync(
                new DeliveryAttempt
                {
                    DeliveryId = delivery.Id,
                    AttemptedAt = now,
                    Succeeded = succeeded,
                    StatusCode = statusCode,
                    Error = error,
                    RetryAt = retryAt,
                },
                stoppingToken);
            if (!succeeded)
            {
                if (retryAt is null)
                {
                    Log.WebhookDeliveryDead(_logger, delivery.SubscriptionId, delivery.Id, attempt, error!);
                }
                else
                {
                    Log.WebhookDeliveryFailed(_logger, delivery.SubscriptionId, delivery.Id, attempt, error!, retryAt.Value);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Left pending: attempted again after the restart.
        }
        catch (Exception e)
        {
            // Whatever failed, the delivery stays pending; the pause keeps a persistent failure from becoming a tight loop.
            Log.WebhookOutboxFailed(_logger, e);
            await Task.Delay(_options.PollInterval, _timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            lock (_inFlight)
            {
                _inFlight.Remove(delivery.SubscriptionId);
            }

            _signal.Set();
        }
    }

    async Task<(bool Succeeded, int? StatusCode, string? Error)> SendAsync(DueDelivery due, int attempt, CancellationToken stoppingToken)
    {
        var body = Payload(due.Delivery);
        using var request = new HttpRequestMessage(HttpMethod.Post, due.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("X-Keel-Delivery", due.Delivery.Id);
        request.Headers.Add("X-Keel-Event", WireNames.Events.ConfigChange);
        request.Headers.Add("X-Keel-Signature", Signature(due.Secret!, body));
        request.Headers.Add("X-Keel-Attempt", attempt.ToString(CultureInfo.InvariantCulture));

        using var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken);
        try
        {
            // The body is never read: a receiver's answer is its status, and its body is not Keel's to keep.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (true, status, null) : (false, status, $"HTTP {status}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return (false, null, string.Create(CultureInfo.InvariantCulture, $"no answer within {_options.Timeout.TotalSeconds:0.###} s"));
        }
        catch (HttpRequestException e) when (e.InnerException is WebhookTargetRefusedException refused)
        {
            return (false, null, refused.Message);
        }
        catch (HttpRequestException e)
        {
            // The error kind, not the message: messages can quote the URL.
            return (false, null, $"request failed: {e.HttpRequestError}");
        }
    }

    /// <summary>The wait after a failed attempt: doubling from the initial backoff, ±20 % jitter, never past the maximum.</summary>
    TimeSpan Backoff(int attempt)
    {
        // In ticks as a double, so that a long series cannot overflow TimeSpan before the cap applies.
        var exponential = _options.InitialBackoff.Ticks * Math.Pow(2, attempt - 1);
        var jittered = exponential * (0.8 + (0.4 * Random.Shared.NextDouble()));
        return TimeSpan.FromTicks((long)Math.Min(jittered, _options.MaxBackoff.Ticks));
    }

    /// <summary>Looks at the outbox now, as after a redelivery, instead of at the next poll.</summary>
    public void Wake() => _signal.Set();

    /// <summary>The body: the change, never its value; the same bytes on every attempt, so the signature is too.</summary>
    internal static byte[] Payload(WebhookDelivery delivery)
    {
        var change = delivery.Change;
        return JsonSerializer.SerializeToUtf8Bytes(
            new WebhookPayload(
                FlagStorage.IsFlagEnvironment(change.Id.Environment) ? WireNames.Events.FlagChange : WireNames.Events.ConfigChange,
                change.Id.ServiceName,
                FlagStorage.PublicEnvironment(change.Id.Environment),
                change.Id.Key,
                change.Version,
                change.Revision,
                Core.Configs.ChangeTypes.ToWireName(change.ChangeType),
                change.Timestamp.UtcDateTime),
            KeelJson.Context.WebhookPayload);
    }

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of the body, keyed with the subscription's secret.</summary>
    internal static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
