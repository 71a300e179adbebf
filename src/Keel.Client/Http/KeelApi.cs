// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Keel.Client.Http;

/// <summary>The requests the client sends: snapshot reads, batch reads, long-polls and watch streams, each with a fresh token.</summary>
sealed class KeelApi : IDisposable
{
    /// <summary>The most keys one batch read may name (the server's limit).</summary>
    public const int MaxBatchKeys = 1000;

    readonly HttpClient _http;
    readonly Func<CancellationToken, ValueTask<string>> _token;

    public KeelApi(Uri endpoint, Func<CancellationToken, ValueTask<string>> token, HttpMessageHandler? handler)
    {
        // Streams last up to the server's stream lifetime, so the client's own timeout must not cut them; every request
        // carries its own cancellation instead.
#pragma warning disable CA2000 // The client owns the handler and disposes of it.
        _http = new HttpClient(handler ?? DefaultHandler(), disposeHandler: true)
        {
            BaseAddress = endpoint,
            Timeout = Timeout.InfiniteTimeSpan,
        };
#pragma warning restore CA2000
        _token = token;
    }

    public Uri Endpoint => _http.BaseAddress!;

    // Connections are renewed now and then, so that a DNS change (a failover) is followed.
    static SocketsHttpHandler DefaultHandler() => new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };

    /// <summary>
    /// Reads a whole service and environment, following the pages the server's byte bound for one answer makes;
    /// <see langword="null"/> when <paramref name="etag"/> still holds.
    /// </summary>
    /// <remarks>
    /// Pages are read one after the other, each at its own revision. The answer carries the first page's revision and tag:
    /// a watch from that revision replays every change made while the later pages were read, so the stitched keys converge.
    /// </remarks>
    public async Task<(SnapshotAnswer Answer, EntityTagHeaderValue? ETag)?> GetSnapshotAsync(
        string serviceName, string environment, EntityTagHeaderValue? etag, CancellationToken cancellationToken)
    {
        var path = $"api/v1/config/{Escape(serviceName)}/{Escape(environment)}";
        SnapshotAnswer first;
        EntityTagHeaderValue? tag;
        using (var response = await GetConditionalAsync(path, etag, cancellationToken).ConfigureAwait(false))
        {
            if (response is null)
            {
                return null;
            }

            first = await response.Content.ReadFromJsonAsync(KeelWireContext.Default.SnapshotAnswer, cancellationToken).ConfigureAwait(false) ?? throw Malformed();
            tag = response.Headers.ETag;
        }

        if (first.NextCursor is null)
        {
            return (first, tag);
        }

        List<ConfigItem> configs = [.. first.Configs];
        var cursor = first.NextCursor;
        while (cursor is not null)
        {
            using var response = await GetConditionalAsync(path + "?cursor=" + Uri.EscapeDataString(cursor), etag: null, cancellationToken).ConfigureAwait(false);
            var page = await response!.Content.ReadFromJsonAsync(KeelWireContext.Default.SnapshotAnswer, cancellationToken).ConfigureAwait(false) ?? throw Malformed();

            // The server carries at least one key on a page that has a next one, so each round moves on.
            cursor = page.NextCursor is not null && page.Configs.Count == 0 ? throw Malformed() : page.NextCursor;
            configs.AddRange(page.Configs);
        }

        return (first with { Configs = configs, NextCursor = null }, tag);
    }

    /// <summary>Reads the flag file of a service and environment; <see langword="null"/> when <paramref name="etag"/> still holds.</summary>
    public async Task<(JsonElement File, EntityTagHeaderValue? ETag)?> GetFlagsAsync(
        string serviceName, string environment, EntityTagHeaderValue? etag, CancellationToken cancellationToken)
    {
        using var response = await GetConditionalAsync($"api/v1/flags/{Escape(serviceName)}/{Escape(environment)}", etag, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return null;
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var document = await JsonDocument.ParseAsync(body, new JsonDocumentOptions { MaxDepth = 256 }, cancellationToken).ConfigureAwait(false);
            return (document.RootElement.Clone(), response.Headers.ETag);
        }
    }

    /// <summary>The revision the server's change feed has reached: a long-poll that does not wait.</summary>
    public async Task<long> GetRevisionAsync(WatchQuery query, CancellationToken cancellationToken) =>
        (await GetChangesAsync(query, since: null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false)).Revision;

    /// <summary>
    /// Reads the current values of up to <see cref="MaxBatchKeys"/> keys, asking again for those the server deferred past its
    /// byte bound for one answer.
    /// </summary>
    public async Task<BatchAnswer> GetManyAsync(string serviceName, string environment, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var answer = await GetBatchAsync(serviceName, environment, keys, cancellationToken).ConfigureAwait(false);
        if (answer.Deferred is not { Count: > 0 })
        {
            return answer;
        }

        List<ConfigItem> configs = [.. answer.Configs];
        List<string> missing = [.. answer.Missing];
        var deferred = answer.Deferred;
        while (deferred is { Count: > 0 })
        {
            // The server carries at least one value per answer, so each round moves on.
            var next = await GetBatchAsync(serviceName, environment, deferred, cancellationToken).ConfigureAwait(false);
            configs.AddRange(next.Configs);
            missing.AddRange(next.Missing);
            deferred = next.Configs.Count == 0 && next.Missing.Count == 0 ? throw Malformed() : next.Deferred;
        }

        return new BatchAnswer(configs, missing);
    }

    async Task<BatchAnswer> GetBatchAsync(string serviceName, string environment, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Post, "api/v1/config/batch", cancellationToken).ConfigureAwait(false);
        request.Content = JsonContent.Create(new BatchQuestion(serviceName, environment, keys), KeelWireContext.Default.BatchQuestion);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(KeelWireContext.Default.BatchAnswer, cancellationToken).ConfigureAwait(false) ?? throw Malformed();
    }

    /// <summary>A long-poll: the changes after <paramref name="since"/> (all of them, from now, when null) or none within <paramref name="wait"/>.</summary>
    public async Task<ChangesAnswer> GetChangesAsync(WatchQuery query, long? since, TimeSpan wait, CancellationToken cancellationToken)
    {
        var path = "api/v1/changes?" + query.ToQueryString(since) + "&wait=" + ((long)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        using var request = await RequestAsync(HttpMethod.Get, path, cancellationToken).ConfigureAwait(false);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(KeelWireContext.Default.ChangesAnswer, cancellationToken).ConfigureAwait(false) ?? throw Malformed();
    }

    /// <summary>Opens a watch stream from <paramref name="since"/>; the caller reads and disposes of the answer.</summary>
    public async Task<HttpResponseMessage> OpenWatchAsync(WatchQuery query, long since, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, "api/v1/watch?" + query.ToQueryString(null), cancellationToken).ConfigureAwait(false);
        request.Headers.Add("Last-Event-ID", since.ToString(CultureInfo.InvariantCulture));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    public static string Escape(string segment) => Uri.EscapeDataString(segment);

    /// <summary>A GET with <c>If-None-Match</c>: the successful answer, or <see langword="null"/> for a <c>304</c>.</summary>
    async Task<HttpResponseMessage?> GetConditionalAsync(string path, EntityTagHeaderValue? etag, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, path, cancellationToken).ConfigureAwait(false);
        if (etag is not null)
        {
            request.Headers.IfNoneMatch.Add(etag);
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                response.Dispose();
                return null;
            }

            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    async ValueTask<HttpRequestMessage> RequestAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var token = await _token(cancellationToken).ConfigureAwait(false);
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ProblemAnswer? problem = null;
        try
        {
            if (response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                problem = await response.Content.ReadFromJsonAsync(KeelWireContext.Default.ProblemAnswer, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (JsonException)
        {
            // A proxy's error page in JSON clothing: the status says enough.
        }

        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"Keel answered {(int)response.StatusCode} {response.ReasonPhrase}")
            .Append(problem?.Code is { } code ? $" ({code})" : "")
            .Append(problem?.Detail is { } detail ? ": " + detail : ".")
            .ToString();
        throw new KeelHttpException(response.StatusCode, problem?.Code, message, retryAfter);
    }

    static InvalidDataException Malformed() => new("Keel answered with an empty body.");
}

/// <summary>The filters of a watch or long-poll.</summary>
sealed record WatchQuery(string ServiceName, string Environment, string? Prefix, bool Flags)
{
    public string ToQueryString(long? since)
    {
        var query = new StringBuilder()
            .Append("service_name=").Append(KeelApi.Escape(ServiceName))
            .Append("&environment=").Append(KeelApi.Escape(Environment));
        if (Prefix is not null)
        {
            query.Append("&prefix=").Append(KeelApi.Escape(Prefix));
        }

        if (Flags)
        {
            query.Append("&kind=flag");
        }

        if (since is not null)
        {
            query.Append("&since_revision=").Append(since.Value.ToString(CultureInfo.InvariantCulture));
        }

        return query.ToString();
    }
}
