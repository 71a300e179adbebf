// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Keel.Benchmarks;

/// <summary>
/// Zipf-distributed GETs against a running server whose keys are <c>svc-(i % 1000)/prod/key-i</c> (as benchmarks/storage
/// seeds them), printing each second the requests answered and the cache hit rate the server counted in that second:
/// <c>zipf-load --url U --token T --keys 1000000 --exponent 1.2 --seconds 30 [--concurrency 32] [--seed 1]</c>.
/// </summary>
static class ZipfReadLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        var url = new Uri(options.GetValueOrDefault("url", "http://127.0.0.1:8080"));
        var keys = int.Parse(options.GetValueOrDefault("keys", "1000000"), CultureInfo.InvariantCulture);
        var exponent = double.Parse(options.GetValueOrDefault("exponent", "1.2"), CultureInfo.InvariantCulture);
        var seconds = int.Parse(options.GetValueOrDefault("seconds", "30"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(options.GetValueOrDefault("concurrency", "32"), CultureInfo.InvariantCulture);
        var seed = int.Parse(options.GetValueOrDefault("seed", "1"), CultureInfo.InvariantCulture);
        var label = options.GetValueOrDefault("label", "run");
        var token = options.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("KEEL_TOKEN");

        var zipf = new Zipf(keys, exponent);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = url };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        long answered = 0, failed = 0;
        var loops = Enumerable.Range(0, concurrency).Select(loop => Task.Run(async () =>
        {
            var random = new Random(seed * 1000 + loop);
            while (!stop.IsCancellationRequested)
            {
                var rank = zipf.Next(random);
                var path = string.Create(CultureInfo.InvariantCulture, $"/api/v1/config/svc-{rank % 1000}/prod/key-{rank}");
                try
                {
                    using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, stop.Token);
                    await response.Content.CopyToAsync(Stream.Null, stop.Token);
                    Interlocked.Increment(ref response.StatusCode == HttpStatusCode.OK ? ref answered : ref failed);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        })).ToList();

        Console.WriteLine($"# {label}: {keys:N0} keys, exponent {exponent.ToString(CultureInfo.InvariantCulture)}, {concurrency} connections, {seconds} s");
        Console.WriteLine("| run | second | answered | hit rate in the second | cache entries |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        var (hits, misses, _) = await StatsAsync(client);
        var lastAnswered = 0L;
        for (var second = 1; second <= seconds; second++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            var (h, m, entries) = await StatsAsync(client);
            var lookups = h - hits + (m - misses);
            var now = Interlocked.Read(ref answered);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {label} | {second} | {now - lastAnswered} | {(lookups == 0 ? 0 : (double)(h - hits) / lookups):P2} | {entries:N0} |"));
            (hits, misses, lastAnswered) = (h, m, now);
        }

        await Task.WhenAll(loops);
        Console.WriteLine($"# {label}: {answered:N0} answered 200, {failed:N0} other");
        return failed == 0 ? 0 : 1;
    }

    static async Task<(long Hits, long Misses, long Entries)> StatsAsync(HttpClient client)
    {
        using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/v1/cache/stats"));
        var root = stats.RootElement;
        return (root.GetProperty("hits").GetInt64(), root.GetProperty("misses").GetInt64(), root.GetProperty("entries").GetInt64());
    }
}
