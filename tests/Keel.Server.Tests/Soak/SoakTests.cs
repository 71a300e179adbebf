// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Keel.Server.Tests.Infrastructure;
using Keel.Server.Tests.Webhooks;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Soak;

/// <summary>
/// Mixed load on a server process for a while: cached reads, writes, watchers that come and go, and a webhook delivery for
/// every write. The server's resident memory, open files and threads are sampled from <c>/proc</c>; after a warm-up they must
/// stay within a margin of what they were, and no answer may be 500 or more. Two minutes on every CI build;
/// <c>benchmarks/soak/run.sh</c> runs it for 30 (<c>KEEL_SOAK_DURATION</c>) and keeps the report (<c>KEEL_SOAK_REPORT</c>).
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class SoakTests
{
    const int Keys = 50;
    const int Watchers = 10;
    static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task MixedLoad_KeepsMemoryHandlesAndThreadsBounded_AndNeverAnswers500()
    {
        Assert.SkipWhen(!OperatingSystem.IsLinux(), "The soak reads the server's figures from /proc.");
        var duration = TimeSpan.TryParse(Environment.GetEnvironmentVariable("KEEL_SOAK_DURATION"), CultureInfo.InvariantCulture, out var d)
            ? d : TimeSpan.FromMinutes(2);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await KeelServerProcess.StartAsync(
        [
            "--urls", "http://127.0.0.1:0",
            "--data-dir", KeelTestServer.NewDataDir(),
            .. WebhookApi.FastSettings().Select(s => "--" + s),
        ]);
        var service = Service();
        for (var i = 0; i < Keys; i++)
        {
            await server.Client.PutValueAsync(service, WebhookApi.Env, $"key{i}", "0");
        }

        await server.Client.SubscribeAsync(service, receiver.Url.ToString(), "*");
        var load = new Load(server.Client, service);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var clock = Stopwatch.StartNew();
        var running = load.RunAsync(stop.Token);
        var samples = new List<Sample>();
        while (clock.Elapsed < duration)
        {
            await Task.Delay(SampleEvery, Ct);
            samples.Add(Sample.Of(server.Id, clock.Elapsed, load, receiver.Received.Count));
            Assert.True(load.Failures.IsEmpty, $"answers other than 200 or 201: {string.Join("; ", load.Failures.Take(3))}");
        }

        await stop.CancelAsync();
        await running;
        var delivered = await WaitForDeliveriesAsync(receiver, load.Writes);
        var report = Report(duration, samples, load, delivered);
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        if (Environment.GetEnvironmentVariable("KEEL_SOAK_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, report, Ct);
        }

        Assert.Empty(load.Failures);
        Assert.True(load.Reads > 1000 && load.Writes > 100 && load.WatchEvents > 100, report);
        Assert.True(delivered >= load.Writes, $"{delivered} webhook deliveries for {load.Writes} writes\n{report}");

        // After the first quarter (start-up, JIT, pools filling), the last quarter stays within a margin of the second.
        var settled = samples.Where(s => s.At >= duration / 4 && s.At < duration / 2).ToList();
        var last = samples.Where(s => s.At >= duration * 3 / 4).ToList();
        Assert.True(last.Max(s => s.RssBytes) <= settled.Max(s => s.RssBytes) * 5 / 4 + (32L << 20), "resident memory grew\n" + report);
        Assert.True(last.Max(s => s.OpenFiles) <= settled.Max(s => s.OpenFiles) + 32, "open files grew\n" + report);
        Assert.True(last.Max(s => s.Threads) <= settled.Max(s => s.Threads) + 16, "threads grew\n" + report);
    }

    static async Task<int> WaitForDeliveriesAsync(WebhookReceiver receiver, long writes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        // Distinct deliveries: a redelivery (a retry after a slow answer) must not stand in for one never made.
        int Distinct() => receiver.Received.Select(r => r.DeliveryId).Distinct(StringComparer.Ordinal).Count();
        while (Distinct() < writes && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, Ct);
        }

        return Distinct();
    }

    static string Report(TimeSpan duration, List<Sample> samples, Load load, int delivered)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Soak of {duration}: {load.Reads} cached reads, {load.Writes} writes, {load.WatchEvents} watch events over ")
            .Append(CultureInfo.InvariantCulture, $"{load.WatchConnections} watch connections, {delivered} webhook deliveries; {load.Failures.Count} answers other than 200 or 201 (none of 500 or more allowed).\n\n")
            .Append("| at | RSS (MiB) | open files | threads | reads | writes | deliveries |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        var every = Math.Max(1, samples.Count / 12);
        for (var i = 0; i < samples.Count; i++)
        {
            if (i % every == 0 || i == samples.Count - 1)
            {
                var s = samples[i];
                text.Append(CultureInfo.InvariantCulture, $"| {s.At:hh\\:mm\\:ss} | {s.RssBytes / (1 << 20)} | {s.OpenFiles} | {s.Threads} | {s.Reads} | {s.Writes} | {s.Deliveries} |\n");
            }
        }

        return text.ToString();
    }

    sealed record Sample(TimeSpan At, long RssBytes, int OpenFiles, int Threads, long Reads, long Writes, int Deliveries)
    {
        public static Sample Of(int pid, TimeSpan at, Load load, int deliveries)
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            long Field(string name) => long.Parse(
                status.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return new Sample(at, Field("VmRSS") * 1024, Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length, (int)Field("Threads"), load.Reads, load.Writes, deliveries);
        }
    }

    /// <summary>Two readers of cached keys, one writer, and watchers that each stay a few seconds, then connect again.</summary>
    sealed class Load(HttpClient client, string service)
    {
        long _reads;
        long _writes;
        long _watchEvents;
        long _watchConnections;

        public ConcurrentQueue<string> Failures { get; } = new();

        public long Reads => Interlocked.Read(ref _reads);

        public long Writes => Interlocked.Read(ref _writes);

        public long WatchEvents => Interlocked.Read(ref _watchEvents);

        public long WatchConnections => Interlocked.Read(ref _watchConnections);

        public Task RunAsync(CancellationToken stop) => Task.WhenAll(
        [
            Task.Run(() => ReadAsync(stop), stop),
            Task.Run(() => ReadAsync(stop), stop),
            Task.Run(() => WriteAsync(stop), stop),
            .. Enumerable.Range(0, Watchers).Select(w => Task.Run(() => WatchAsync(w, stop), stop)),
        ]);

        async Task ReadAsync(CancellationToken stop)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await client.GetAsync(ConfigPath(service, WebhookApi.Env, $"key{i % Keys}"), CancellationToken.None);
                Record("GET", response);
                Interlocked.Increment(ref _reads);
            }
        }

        async Task WriteAsync(CancellationToken stop)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await client.PutAsync(
                    ConfigPath(service, WebhookApi.Env, $"key{i % Keys}"), Json(new { config_value = i.ToString(CultureInfo.InvariantCulture) }), CancellationToken.None);
                if (Record("PUT", response))
                {
                    Interlocked.Increment(ref _writes);
                }
                await Task.Delay(50, CancellationToken.None);
            }
        }

        async Task WatchAsync(int watcher, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                await using var watch = await SseClient.ConnectAsync(client, $"/api/v1/watch?service_name={service}");
                Interlocked.Increment(ref _watchConnections);
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(3 + watcher);
                while (DateTime.UtcNow < until && !stop.IsCancellationRequested)
                {
                    var frame = await watch.NextFrameAsync(TimeSpan.FromSeconds(30));
                    if (frame.Data is not null)
                    {
                        Interlocked.Increment(ref _watchEvents);
                    }
                }
            }
        }

        bool Record(string method, HttpResponseMessage response)
        {
            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
            {
                return true;
            }

            Failures.Enqueue($"{method}: {(int)response.StatusCode}");
            return false;
        }
    }
}
