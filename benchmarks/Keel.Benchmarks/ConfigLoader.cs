// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

namespace Keel.Benchmarks;

/// <summary>
/// Loads keys into a running server for the HTTP benchmarks:
/// <c>load --url http://127.0.0.1:8080 --keys 100000 --token &lt;token with write and read&gt; [--service bench] [--environment prod] [--value-bytes 64] [--concurrency 32]</c>;
/// the token defaults to <c>KEEL_TOKEN</c>.
/// </summary>
static class ConfigLoader
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = Parse(args);
        var url = new Uri(options.GetValueOrDefault("url", "http://127.0.0.1:8080"));
        var keys = int.Parse(options.GetValueOrDefault("keys", "100000"), CultureInfo.InvariantCulture);
        var service = options.GetValueOrDefault("service", "bench");
        var environment = options.GetValueOrDefault("environment", "prod");
        var valueBytes = int.Parse(options.GetValueOrDefault("value-bytes", "64"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(options.GetValueOrDefault("concurrency", "32"), CultureInfo.InvariantCulture);

        using var client = new HttpClient { BaseAddress = url };
        var token = options.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("KEEL_TOKEN");
        if (!string.IsNullOrEmpty(token))
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        var value = new string('v', valueBytes);
        var next = -1;
        var failures = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < keys)
            {
                var path = string.Create(CultureInfo.InvariantCulture, $"/api/v1/config/{service}/{environment}/key-{i}");
                using var response = await client.PutAsJsonAsync(path, new Body(value));
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));

        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"Loaded {keys} keys into {service}/{environment} in {seconds:F1} s ({keys / seconds:F0} writes/s), {failures} failures."));

        // Reads every key once, a thousand per batch, so that the measured run starts with a warm cache.
        for (var start = 0; start < keys; start += 1000)
        {
            var batch = Enumerable.Range(start, Math.Min(1000, keys - start)).Select(i => string.Create(CultureInfo.InvariantCulture, $"key-{i}")).ToArray();
            using var response = await client.PostAsJsonAsync("/api/v1/config/batch", new BatchBody(service, environment, batch));
            if (!response.IsSuccessStatusCode)
            {
                failures++;
            }
        }

        Console.WriteLine($"Read every key once to warm the cache, {failures} failures in all.");
        return failures == 0 ? 0 : 1;
    }

    internal static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        return options;
    }

    sealed record Body(string config_value);

    sealed record BatchBody(string service_name, string environment, string[] config_keys);
}
