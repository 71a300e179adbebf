// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Keel.Client;
using Keel.Client.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

/// <summary>
/// A PUT's acknowledgement to the <c>IOptionsMonitor&lt;T&gt;.OnChange</c> callback of N configuration providers, against N
/// bare SSE watchers of the same key measured first in the same run and process (<see cref="PropagationBenchmark"/>):
/// <c>client-propagation [--clients 100] [--changes 50] [--interval-ms 200]</c>.
/// </summary>
/// <remarks>
/// The server runs in this process. Each provider is its own <c>AddKeel</c> configuration with an options monitor bound to
/// <c>bench</c>; a change to <c>bench.value</c> reaches it as an event, a batch read of the changed key, a reload and a
/// rebind. One unmeasured PUT warms the paths; then the measured PUTs follow, each <c>--interval-ms</c> after the previous
/// acknowledgement. Also counts callbacks beyond one per change (spurious reloads). Exits with 1 when a callback was missed.
/// </remarks>
static class ClientPropagationBenchmark
{
    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(120);
    static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = ConfigLoader.Parse(args);
        var clients = int.Parse(options.GetValueOrDefault("clients", "100"), CultureInfo.InvariantCulture);
        var changes = int.Parse(options.GetValueOrDefault("changes", "50"), CultureInfo.InvariantCulture);
        var interval = TimeSpan.FromMilliseconds(int.Parse(options.GetValueOrDefault("interval-ms", "200"), CultureInfo.InvariantCulture));
        if (clients < 1 || changes < 1 || interval < TimeSpan.Zero)
        {
            Console.Error.WriteLine("--clients and --changes must be positive, --interval-ms not negative.");
            return 2;
        }

        await using var server = await BenchServer.StartAsync();
        const string PutPath = "/api/v1/config/bench/prod/bench.value";
        if (await PropagationBenchmark.PutAsync(server.Admin, PutPath, "initial") is null)
        {
            return 1;
        }

        Console.WriteLine($"Baseline: {clients} bare SSE watchers of bench.value.");
        var baseline = await PropagationBenchmark.MeasureAsync(
        [
            "--url", server.Address.ToString(), "--token", BenchServer.AdminToken, "--watchers", clients.ToString(CultureInfo.InvariantCulture),
            "--changes", changes.ToString(CultureInfo.InvariantCulture), "--interval-ms", ((int)interval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--service", "bench", "--environment", "prod", "--key", "bench.value",
        ]);

        Console.WriteLine($"Starting {clients} configuration providers...");
        var arrivals = new ConcurrentDictionary<string, long>[clients];
        var callbacks = new int[clients];
        var roots = new List<ConfigurationRoot>(clients);
        var services = new List<ServiceProvider>(clients);
        var subscriptions = new List<IDisposable?>(clients);
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var index = i;
                arrivals[i] = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
                var root = (ConfigurationRoot)new ConfigurationBuilder().AddKeel(o => o.Connect(server.Address, BenchServer.AdminToken).Select("bench", "prod")).Build();
                roots.Add(root);
                var provider = new ServiceCollection().Configure<BenchOptions>(root.GetSection("bench")).BuildServiceProvider();
                services.Add(provider);
                subscriptions.Add(provider.GetRequiredService<IOptionsMonitor<BenchOptions>>().OnChange(o =>
                {
                    var now = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref callbacks[index]);
                    arrivals[index].TryAdd(o.Value ?? "", now);
                }));
            }

            var keel = roots.Select(r => r.Providers.OfType<KeelConfigurationProvider>().Single()).ToList();
            var connectDeadline = Stopwatch.GetTimestamp();
            while (!keel.All(p => p.Status.Transport == KeelTransport.Watch))
            {
                if (Stopwatch.GetElapsedTime(connectDeadline) > ConnectTimeout)
                {
                    Console.Error.WriteLine("The providers did not all open their watch in time.");
                    return 1;
                }

                await Task.Delay(50);
            }

            if (await PropagationBenchmark.PutAsync(server.Admin, PutPath, "warm-up") is null)
            {
                return 1;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            Array.Clear(callbacks);
            var acks = new List<(string Value, long Ack)>(changes);
            for (var c = 0; c < changes; c++)
            {
                if (c > 0)
                {
                    await Task.Delay(interval);
                }

                var value = string.Create(CultureInfo.InvariantCulture, $"client-change-{c}");
                if (await PropagationBenchmark.PutAsync(server.Admin, PutPath, value) is { } put)
                {
                    acks.Add((value, put.Ack));
                }
            }

            var drain = Stopwatch.GetTimestamp();
            while (arrivals.Any(a => acks.Any(ack => !a.ContainsKey(ack.Value))) && Stopwatch.GetElapsedTime(drain) < DrainTimeout)
            {
                await Task.Delay(10);
            }

            var latencies = new List<double>(clients * acks.Count);
            long missed = 0;
            foreach (var client in arrivals)
            {
                foreach (var (value, ack) in acks)
                {
                    if (client.TryGetValue(value, out var arrival))
                    {
                        latencies.Add((arrival - ack) * 1000.0 / Stopwatch.Frequency);
                    }
                    else
                    {
                        missed++;
                    }
                }
            }

            latencies.Sort();
            var p50 = PropagationBenchmark.Percentile(latencies, 50);
            var p99 = PropagationBenchmark.Percentile(latencies, 99);
            var max = latencies.Count > 0 ? latencies[^1] : double.NaN;
            var extra = callbacks.Sum() - latencies.Count;
            Console.WriteLine("| Clients | Changes | Samples | Missed | Extra callbacks | p50 (ms) | p99 (ms) | max (ms) | SSE p50 (ms) | SSE p99 (ms) | p50 ratio | p99 ratio |");
            Console.WriteLine("|--------:|--------:|--------:|-------:|----------------:|---------:|---------:|---------:|-------------:|-------------:|----------:|----------:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {clients:N0} | {acks.Count} | {latencies.Count:N0} | {missed} | {extra} | {PropagationBenchmark.Ms(p50)} | {PropagationBenchmark.Ms(p99)} | {PropagationBenchmark.Ms(max)} | "
                + $"{PropagationBenchmark.Ms(baseline.P50)} | {PropagationBenchmark.Ms(baseline.P99)} | {p50 / baseline.P50:F2} | {p99 / baseline.P99:F2} |"));
            return missed == 0 && acks.Count == changes && baseline.Exit == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var subscription in subscriptions)
            {
                subscription?.Dispose();
            }

            foreach (var provider in services)
            {
                await provider.DisposeAsync();
            }

            foreach (var root in roots)
            {
                root.Dispose();
            }
        }
    }

    sealed class BenchOptions
    {
        public string? Value { get; set; }
    }
}
