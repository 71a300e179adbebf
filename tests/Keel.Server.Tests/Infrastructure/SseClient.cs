// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using System.Threading.Channels;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>One SSE block as it arrived: its fields and comments, before any interpretation.</summary>
public sealed record SseFrame(string? Event, string? Data, string? Id, IReadOnlyList<string> Comments, string? Retry)
{
    public JsonElement Json => JsonDocument.Parse(Data!).RootElement;
}

/// <summary>
/// A Server-Sent Events client over a real HTTP connection, that keeps every block (comments and id-only blocks too) and, like
/// EventSource, remembers the last id it saw.
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    readonly HttpResponseMessage _response;
    readonly CancellationTokenSource _stop = new();
    readonly Channel<SseFrame> _frames = Channel.CreateUnbounded<SseFrame>();
    readonly Task _reading;

    SseClient(HttpResponseMessage response)
    {
        _response = response;
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>The last id any block carried, as EventSource would send it in Last-Event-ID.</summary>
    public string? LastEventId { get; private set; }

    /// <summary>Completes when the server ends the stream.</summary>
    public Task Completion => _reading;

    public static async Task<SseClient> ConnectAsync(HttpClient client, string pathAndQuery, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Http.Ct);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(Http.Ct);
            response.Dispose();
            throw new HttpRequestException($"The watch answered {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var sse = new SseClient(response);
        sse.LastEventId = lastEventId;
        return sse;
    }

    /// <summary>The next block, or a timeout failure.</summary>
    public async Task<SseFrame> NextFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Http.Ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        return await _frames.Reader.ReadAsync(cts.Token);
    }

    /// <summary>The next <paramref name="count"/> change events, skipping comments and id-only blocks, all within the timeout.</summary>
    public async Task<List<SseFrame>> NextEventsAsync(int count, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Http.Ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(20));
        List<SseFrame> events = [];
        while (events.Count < count)
        {
            var frame = await _frames.Reader.ReadAsync(cts.Token);
            if (frame.Data is not null)
            {
                events.Add(frame);
            }
        }

        return events;
    }

    /// <summary>Whether a change event arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> ReceivesEventWithinAsync(TimeSpan wait)
    {
        try
        {
            await NextEventsAsync(1, wait);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
            string? evt = null, id = null, retry = null;
            List<string> data = [], comments = [];
            var any = false;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (any)
                    {
                        if (id is not null)
                        {
                            LastEventId = id;
                        }

                        _frames.Writer.TryWrite(new SseFrame(evt, data.Count == 0 ? null : string.Join('\n', data), id, comments, retry));
                    }

                    (evt, id, retry, data, comments, any) = (null, null, null, [], [], false);
                    continue;
                }

                any = true;
                if (line.StartsWith(':'))
                {
                    comments.Add(line[1..].TrimStart());
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var (field, value) = colon < 0 ? (line, string.Empty) : (line[..colon], line[(colon + 1)..].TrimStart(' '));
                switch (field)
                {
                    case "event":
                        evt = value;
                        break;
                    case "data":
                        data.Add(value);
                        break;
                    case "id":
                        id = value;
                        break;
                    case "retry":
                        retry = value;
                        break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            // The stream ended; Completion says so.
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The read stops on cancellation first, so that it never meets a disposed response.
        await _stop.CancelAsync();
        await _reading;
        _response.Dispose();
        _stop.Dispose();
    }
}
