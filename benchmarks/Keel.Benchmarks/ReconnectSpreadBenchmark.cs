// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Keel.Client;
using Keel.Client.Configuration;
using Keel.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Keel.Benchmarks;

/// <summary>
/// N configuration providers watch one server in this process; the server stops, stays down for a while, and comes back on
/// the same port and data. Reports when each provider's first successful request after the restart happened, as a
/// histogram of seconds since the server listened again: the spread the jittered backoff gives.
/// </summary>
static class ReconnectSpreadBenchmark
{
    const string AdminToken = "keel-bench-admin-token-0123456789abcdef";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = ConfigLoader.Parse(args);
        var clients = int.Parse(options.GetValueOrDefault("clients", "1000"), CultureInfo.InvariantCulture);
        var down = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("down-seconds", "5"), CultureInfo.InvariantCulture));
        var dataDir = Path.Combine(Path.GetTempPath(), "keel-reconnect-bench-" + Guid.NewGuid().ToString("N"));
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var address = new Uri($"http://127.0.0.1:{port}/");
        string[] serverArgs =
        [
            "--urls", address.ToString(), "--data-dir", dataDir, "--Keel:Security:AdminToken=" + AdminToken,
            "--Keel:Watch:MaxWatchersPerToken=0", "--Keel:Watch:MaxWatchersPerClientAddress=0",
            "--Logging:LogLevel:Default=Warning",
        ];
        var server = KeelHost.Build(serverArgs);
        await server.StartAsync();
        using (var http = new HttpClient { BaseAddress = address })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
            using var put = await http.PutAsync("/api/v1/config/bench/prod/k", new StringContent("""{"config_value": "1"}""", System.Text.Encoding.UTF8, "application/json"));
            put.EnsureSuccessStatusCode();
        }

        using var logs = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(options.ContainsKey("verbose") ? LogLevel.Information : LogLevel.Error));
        var roots = new List<ConfigurationRoot>(clients);
        try
        {
            Console.WriteLine($"Starting {clients} providers...");
            for (var i = 0; i < clients; i++)
            {
                roots.Add((ConfigurationRoot)new ConfigurationBuilder().AddKeel(o => o.Connect(address, AdminToken).Select("bench", "prod").UseLoggerFactory(logs)).Build());
            }

            var providers = roots.Select(r => r.Providers.OfType<KeelConfigurationProvider>().Single()).ToList();
            await WaitAsync(() => providers.All(p => p.Status.Transport == KeelTransport.Watch), TimeSpan.FromSeconds(120));

            Console.WriteLine($"All watching; stopping the server for {down.TotalSeconds:0.#} s.");
            await server.StopAsync();
            await server.DisposeAsync();
            await Task.Delay(down);
            server = KeelHost.Build(serverArgs);
            await server.StartAsync();
            var restarted = DateTimeOffset.UtcNow;
            Console.WriteLine("Restarted; waiting for every provider to reconnect.");
            await WaitAsync(() => providers.All(p => p.Status.LastSuccess > restarted), TimeSpan.FromSeconds(180));

            var offsets = providers.Select(p => (p.Status.LastSuccess!.Value - restarted).TotalSeconds).Order().ToList();

            // LastSuccess moves on with every heartbeat; the first success after the restart is what is measured, so the
            // wait above ends as soon as all have one, and the offsets are read at once.
            Console.WriteLine($"| Clients | Down (s) | First (s) | p50 (s) | p90 (s) | Last (s) | Most in one second |");
            Console.WriteLine($"|--------:|---------:|----------:|--------:|--------:|---------:|-------------------:|");
            var busiest = offsets.GroupBy(o => (int)Math.Floor(o)).Max(g => g.Count());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {clients:N0} | {down.TotalSeconds:0.#} | {offsets[0]:0.00} | {offsets[offsets.Count / 2]:0.00} | {offsets[(int)(offsets.Count * 0.9)]:0.00} | {offsets[^1]:0.00} | {busiest} |"));
            Console.WriteLine();
            Console.WriteLine("Seconds after the restart: providers reconnected");
            foreach (var second in offsets.GroupBy(o => (int)Math.Floor(o)).OrderBy(g => g.Key))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {second.Key,3}-{second.Key + 1,-3} {second.Count(),5}"));
            }

            return 0;
        }
        finally
        {
            foreach (var root in roots)
            {
                root.Dispose();
            }

            await server.DisposeAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The providers did not get there in time.");
            }

            await Task.Delay(50);
        }
    }
}
