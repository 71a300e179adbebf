// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Faults;

/// <summary>One writer of new keys and one reader of a cached key, recording every answer that is not what a client may expect.</summary>
public sealed class WriteAndReadLoad(HttpClient client, string service, string cachedPath, Func<int, string> valueOf)
{
    readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
    int _refused;
    int _cachedReads;

    public ConcurrentQueue<(string Key, string Value)> Acknowledged { get; } = new();

    public ConcurrentQueue<string> Unexpected { get; } = new();

    public int Refused => _refused;

    public int CachedReads => _cachedReads;

    public Task RunAsync() => Task.WhenAll(Task.Run(WriteAsync, Ct), Task.Run(ReadAsync, Ct));

    public async Task AcknowledgedAtLeastAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Acknowledged.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Acknowledged.Count} writes acknowledged in {timeout}, not {count}: {string.Join("; ", Unexpected.Take(3))}");
            await Task.Delay(50, Ct);
        }
    }

    public async Task RefusedAtLeastAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Refused < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Refused} writes refused in {timeout}, not {count}: {string.Join("; ", Unexpected.Take(3))}");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Reads every acknowledged key through <paramref name="reader"/>, which must answer each with the value written.</summary>
    public async Task AllAcknowledgedReadBackAsync(HttpClient reader)
    {
        var acknowledged = Acknowledged.ToDictionary(a => a.Key, a => a.Value);
        foreach (var batch in acknowledged.Keys.Chunk(100))
        {
            var answer = await (await reader.SendAsync(
                HttpMethod.Post, "/api/v1/config/batch", new { service_name = service, environment = "prod", config_keys = batch })).OkJsonAsync();
            Assert.Empty(answer.GetProperty("missing").EnumerateArray());
            foreach (var config in answer.GetProperty("configs").EnumerateArray())
            {
                Assert.Equal(acknowledged[config.GetProperty("config_key").GetString()!], config.GetProperty("config_value").GetString());
            }

            Assert.Equal(batch.Length, answer.GetProperty("configs").GetArrayLength());
        }
    }

    public async Task StopAsync(Task running)
    {
        await _stop.CancelAsync();
        await running;
    }

    async Task WriteAsync()
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var key = $"w{i}";
            var value = valueOf(i);
            using var response = await client.PutAsync(ConfigPath(service, "prod", key), Json(new { config_value = value }), CancellationToken.None);
            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
            {
                Acknowledged.Enqueue((key, value));
            }
            else if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta > TimeSpan.Zero
                && response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                Interlocked.Increment(ref _refused);
                await Task.Delay(20, CancellationToken.None);
            }
            else
            {
                Unexpected.Enqueue($"PUT {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
            }
        }
    }

    async Task ReadAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var response = await client.GetAsync(cachedPath, CancellationToken.None);
            var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
            if (response.StatusCode != HttpStatusCode.OK || !body.Contains("\"steady\"", StringComparison.Ordinal))
            {
                Unexpected.Enqueue($"GET cached: {(int)response.StatusCode} {body}");
            }

            Interlocked.Increment(ref _cachedReads);
            await Task.Delay(10, CancellationToken.None);
        }
    }
}
