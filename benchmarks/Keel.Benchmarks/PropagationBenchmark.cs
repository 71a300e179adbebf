// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace Keel.Benchmarks;

/// <summary>
/// Propagation latency of a running server: the time from a PUT's acknowledgement to the change event's arrival at each of N
/// concurrent Server-Sent-Events watchers of the key:
/// <c>propagation --url http://127.0.0.1:8080 --token &lt;token with write and read&gt; [--watchers 1000] [--changes 50]
/// [--interval-ms 200] [--service bench] [--environment prod] [--key watched-key] [--connect-concurrency 200]
/// [--warm-ups 100] [--services 1] [--server-pid &lt;pid&gt;]</c>; the token defaults to <c>KEEL_TOKEN</c>.
/// </summary>
/// <remarks>
/// With <c>--services N</c> above 1 the watchers are spread over N services (<c>bench-0</c> … <c>bench-{N-1}</c>, each with
/// the key) and the PUTs go to <c>bench-0</c>: only its watchers are measured, and the others must hear nothing, as a server
/// of many services sees most changes. Every watcher is opened first (at most <c>--connect-concurrency</c> at once, 120 s at most in all); <c>--warm-ups</c> PUTs
/// that are not measured, 50 ms apart, warm the write and fan-out paths (a server fresh from its start spends most of its
/// first PUTs' CPU time compiling them, which a server that has run for a while does not); a second later the measured PUTs
/// follow one after the other, each
/// <c>--interval-ms</c> after the previous one's acknowledgement. A PUT is acknowledged when its response, body included, has
/// arrived; an event arrives when the parser hands it over. Latency = arrival − acknowledgement on the
/// <see cref="Stopwatch"/> clock; it is negative when an event beats its PUT's response, and is kept so. After the last PUT the
/// run waits until every watcher has seen every change, 10 s at most. Watchers and writer share this process, so the figures
/// include the client's own work of reading N streams; so that a reader can tell the two apart, the CPU time this process and
/// the server (given <c>--server-pid</c>) spend from the first measured PUT to the end of the drain is reported with them.
/// Prints a summary line and a markdown row with the columns
/// <c>| Watchers | Changes | Samples | Missed | p50 | p90 | p99 | p99.9 | max | PUT p50 | PUT p99 | client CPU | server CPU |</c>
/// (milliseconds; CPU in seconds). Exits
/// with 1 when a watcher failed to connect or lost its stream, an event was missed or a PUT failed.
/// </remarks>
static class PropagationBenchmark
{
    static readonly TimeSpan ConnectPhaseTimeout = TimeSpan.FromSeconds(120);
    static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1);
    static readonly TimeSpan PutTimeout = TimeSpan.FromSeconds(10);
    static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);
    static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(string[] args) => (await MeasureAsync(args)).Exit;

    /// <summary>Runs the measurement as <see cref="RunAsync"/> does, and returns its exit code with the p50 and p99 latencies (ms).</summary>
    public static async Task<(int Exit, double P50, double P99)> MeasureAsync(string[] args)
    {
        var options = ConfigLoader.Parse(args);
        var url = new Uri(options.GetValueOrDefault("url", "http://127.0.0.1:8080"));
        var token = options.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("KEEL_TOKEN");
        var watcherCount = int.Parse(options.GetValueOrDefault("watchers", "1000"), CultureInfo.InvariantCulture);
        var changes = int.Parse(options.GetValueOrDefault("changes", "50"), CultureInfo.InvariantCulture);
        var interval = TimeSpan.FromMilliseconds(int.Parse(options.GetValueOrDefault("interval-ms", "200"), CultureInfo.InvariantCulture));
        var service = options.GetValueOrDefault("service", "bench");
        var environment = options.GetValueOrDefault("environment", "prod");
        var key = options.GetValueOrDefault("key", "watched-key");
        var connectConcurrency = int.Parse(options.GetValueOrDefault("connect-concurrency", "200"), CultureInfo.InvariantCulture);
        var warmUps = int.Parse(options.GetValueOrDefault("warm-ups", "100"), CultureInfo.InvariantCulture);
        var services = int.Parse(options.GetValueOrDefault("services", "1"), CultureInfo.InvariantCulture);
        using var serverProcess = options.GetValueOrDefault("server-pid") is { } pid
            ? Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture))
            : null;
        if (watcherCount < 1 || changes < 1 || connectConcurrency < 1 || warmUps < 1 || services < 1 || interval < TimeSpan.Zero)
        {
            Console.Error.WriteLine("--watchers, --changes, --connect-concurrency, --warm-ups and --services must be positive, --interval-ms not negative.");
            return (2, double.NaN, double.NaN);
        }

        string ServiceOf(int watcher) => services == 1 ? service : string.Create(CultureInfo.InvariantCulture, $"{service}-{watcher % services}");
        string WatchPath(int watcher) => "/api/v1/watch?service_name=" + Uri.EscapeDataString(ServiceOf(watcher)) + "&environment="
            + Uri.EscapeDataString(environment) + "&keys=" + Uri.EscapeDataString(key);
        var putPath = "/api/v1/config/" + Uri.EscapeDataString(ServiceOf(0)) + "/" + Uri.EscapeDataString(environment) + "/" + Uri.EscapeDataString(key);

        // One client for everything; every watcher holds its own HTTP/1.1 connection for the whole run.
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            EnableMultipleHttp2Connections = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
        };
        using var client = new HttpClient(handler)
        {
            BaseAddress = url,
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (!string.IsNullOrEmpty(token))
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var run = new RunState();
        var watchers = new Watcher[watcherCount];
        for (var i = 0; i < watchers.Length; i++)
        {
            watchers[i] = new Watcher();
        }

        using var stop = new CancellationTokenSource();
        using var connectDeadline = new CancellationTokenSource(ConnectPhaseTimeout);
        using var gate = new SemaphoreSlim(connectConcurrency);

        // Phase 1: connect every watcher.
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"Connecting {watcherCount:N0} watchers of {service}/{environment}/{key} to {url} ({connectConcurrency} at once)..."));
        var connectStart = Stopwatch.GetTimestamp();
        var running = new Task[watchers.Length];
        for (var i = 0; i < watchers.Length; i++)
        {
            running[i] = watchers[i].RunAsync(client, WatchPath(i), gate, run, connectDeadline.Token, stop.Token);
        }

        try
        {
            await Task.WhenAll(watchers.Select(w => w.Connected.Task)).WaitAsync(ConnectPhaseTimeout + TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // Counted below as watchers that did not connect.
        }

        var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
        var connected = watchers.Where(w => w.Connected.Task.IsCompletedSuccessfully && w.Connected.Task.Result).ToArray();
        var failedToConnect = watcherCount - connected.Length;

        // The watchers of the written service are measured; the rest are there to be passed over.
        var measured = watchers.Where((w, i) => i % services == 0 && w.Connected.Task.IsCompletedSuccessfully && w.Connected.Task.Result).ToArray();
        var passedOver = connected.Except(measured).ToArray();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"{connected.Length:N0} of {watcherCount:N0} watchers connected in {connectSeconds:F2} s."));
        if (failedToConnect > 0)
        {
            var reasons = watchers.Where(w => !(w.Connected.Task.IsCompletedSuccessfully && w.Connected.Task.Result)).GroupBy(w => w.Error ?? "no answer within the connect phase")
                .OrderByDescending(g => g.Count()).Take(3);
            foreach (var reason in reasons)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {reason.Count():N0} failed to connect: {reason.Key}"));
            }
        }

        var putFailures = 0;
        List<(long Revision, long Ack)> acks = [];
        List<double> putMilliseconds = [];
        var clientCpu = TimeSpan.Zero;
        TimeSpan? serverCpu = null;
        if (connected.Length > 0)
        {
            // Phase 2: unmeasured PUTs; events up to the last one's revision do not count. Then the measured PUTs.
            (long Revision, long Ack, double Milliseconds)? warmUp = null;
            for (var i = 0; i < warmUps && (i == 0 || warmUp is not null); i++)
            {
                await Task.Delay(i == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(50));
                warmUp = await PutAsync(client, putPath, string.Create(CultureInfo.InvariantCulture, $"warm-up-{i}"));
            }

            if (warmUp is null)
            {
                Console.Error.WriteLine("A warm-up PUT failed; nothing measured.");
                putFailures++;
            }
            else
            {
                run.Baseline = warmUp.Value.Revision;
                await Task.Delay(SettleTime);
                var clientCpuStart = ProcessorTime(Process.GetCurrentProcess());
                var serverCpuStart = serverProcess is null ? (TimeSpan?)null : ProcessorTime(serverProcess);
                for (var i = 0; i < changes; i++)
                {
                    if (i > 0)
                    {
                        await Task.Delay(interval);
                    }

                    var put = await PutAsync(client, putPath, string.Create(CultureInfo.InvariantCulture, $"change-{i}"));
                    if (put is null)
                    {
                        putFailures++;
                        continue;
                    }

                    acks.Add((put.Value.Revision, put.Value.Ack));
                    putMilliseconds.Add(put.Value.Milliseconds);
                }

                // Phase 3: wait until every connected watcher has seen every acknowledged change, or the drain timeout.
                var expectedArrivals = (long)measured.Length * acks.Count;
                var drainStart = Stopwatch.GetTimestamp();
                while (run.Received < expectedArrivals && Stopwatch.GetElapsedTime(drainStart) < DrainTimeout)
                {
                    await Task.Delay(10);
                }

                clientCpu = ProcessorTime(Process.GetCurrentProcess()) - clientCpuStart;
                serverCpu = serverProcess is null ? null : ProcessorTime(serverProcess) - serverCpuStart;
            }
        }

        // Stop every watcher and wait for their streams to close.
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(running).WaitAsync(ShutdownTimeout);
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine("Some watchers did not stop within the shutdown timeout.");
        }

        // Results.
        var latencies = new List<double>(measured.Length * acks.Count);
        long missed = 0;
        long negative = 0;
        var lost = 0;
        long strays = 0;
        foreach (var watcher in passedOver)
        {
            lock (watcher.Sync)
            {
                strays += watcher.Arrivals.Count;
            }

            if (watcher.Lost is not null)
            {
                lost++;
            }
        }

        foreach (var watcher in measured)
        {
            lock (watcher.Sync)
            {
                foreach (var (revision, ack) in acks)
                {
                    if (watcher.Arrivals.TryGetValue(revision, out var arrival))
                    {
                        var milliseconds = (arrival - ack) * 1000.0 / Stopwatch.Frequency;
                        latencies.Add(milliseconds);
                        if (milliseconds < 0)
                        {
                            negative++;
                        }
                    }
                    else
                    {
                        missed++;
                    }
                }
            }

            if (watcher.Lost is not null)
            {
                lost++;
            }
        }

        foreach (var reason in connected.Where(w => w.Lost is not null).GroupBy(w => w.Lost).OrderByDescending(g => g.Count()).Take(3))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {reason.Count():N0} watchers lost their stream: {reason.Key}"));
        }

        if (strays > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {strays:N0} events reached watchers of other services."));
        }

        var malformed = connected.Sum(w => w.Malformed);
        if (malformed > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {malformed:N0} change events without a readable revision."));
        }

        latencies.Sort();
        putMilliseconds.Sort();
        var p50 = Percentile(latencies, 50);
        var p90 = Percentile(latencies, 90);
        var p99 = Percentile(latencies, 99);
        var p999 = Percentile(latencies, 99.9);
        var max = latencies.Count > 0 ? latencies[^1] : double.NaN;
        var putP50 = Percentile(putMilliseconds, 50);
        var putP99 = Percentile(putMilliseconds, 99);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"propagation watchers={connected.Length}/{watcherCount} services={services} measured={measured.Length} connect_s={connectSeconds:F2} changes={acks.Count}/{changes} "
            + $"samples={latencies.Count} missed={missed} negative={negative} lost_streams={lost} put_failures={putFailures} "
            + $"p50_ms={Ms(p50)} p90_ms={Ms(p90)} p99_ms={Ms(p99)} p99.9_ms={Ms(p999)} max_ms={Ms(max)} "
            + $"put_p50_ms={Ms(putP50)} put_p99_ms={Ms(putP99)} client_cpu_s={clientCpu.TotalSeconds:F2} server_cpu_s={Seconds(serverCpu)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {watcherCount:N0}{(services == 1 ? "" : string.Create(CultureInfo.InvariantCulture, $" over {services:N0} services"))} | {acks.Count:N0} | {latencies.Count:N0} | {missed:N0} | {Ms(p50)} | {Ms(p90)} | {Ms(p99)} | {Ms(p999)} | {Ms(max)} | {Ms(putP50)} | {Ms(putP99)} | {clientCpu.TotalSeconds:F2} | {Seconds(serverCpu)} |"));

        return (failedToConnect == 0 && missed == 0 && strays == 0 && lost == 0 && putFailures == 0 && acks.Count == changes ? 0 : 1, p50, p99);
    }

    /// <summary>Writes the watched key; returns its revision, the acknowledgement timestamp and the PUT's duration, or null.</summary>
    public static async Task<(long Revision, long Ack, double Milliseconds)?> PutAsync(HttpClient client, string path, string value)
    {
        using var timeout = new CancellationTokenSource(PutTimeout);
        var json = JsonSerializer.Serialize(new Body(value));
        try
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            var start = Stopwatch.GetTimestamp();
            using var response = await client.PutAsync(path, content, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var ack = Stopwatch.GetTimestamp();
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture, $"PUT {path}: HTTP {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}"));
                return null;
            }

            using var document = JsonDocument.Parse(body);
            var revision = document.RootElement.GetProperty("revision").GetInt64();
            return (revision, ack, (ack - start) * 1000.0 / Stopwatch.Frequency);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or KeyNotFoundException
            or InvalidOperationException or FormatException)
        {
            Console.Error.WriteLine($"PUT {path}: {e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    /// <summary>Nearest-rank percentile of sorted values; NaN when there are none.</summary>
    public static double Percentile(List<double> sorted, double percent)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    static TimeSpan ProcessorTime(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    static string Seconds(TimeSpan? value) => value is { } v ? v.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) : "n/a";

    public static string Ms(double value) => double.IsNaN(value) ? "n/a" : value.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>
    /// The revision in a <c>change</c> event's data; -1 for other events (an id-only heartbeat has no data), -2 for a change
    /// event whose data has no readable revision.
    /// </summary>
    static long ParseRevision(string eventType, ReadOnlySpan<byte> data)
    {
        // The agreed event type is "change"; "config_change" (WireNames.Events.ConfigChange) is accepted as well.
        if (eventType is not ("change" or "config_change") || data.IsEmpty)
        {
            return -1;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return -2;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isRevision = reader.ValueTextEquals("revision"u8);
                if (!reader.Read())
                {
                    return -2;
                }

                if (isRevision)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var revision) ? revision : -2;
                }

                reader.Skip();
            }

            return -2;
        }
        catch (JsonException)
        {
            return -2;
        }
    }

    /// <summary>What the watchers share: the revision measured changes come after, and how many of them have arrived.</summary>
    sealed class RunState
    {
        long _baseline = long.MaxValue;
        long _received;

        /// <summary>Events at or below this revision are not counted; nothing counts until the last warm-up PUT sets it.</summary>
        public long Baseline
        {
            get => Volatile.Read(ref _baseline);
            set => Volatile.Write(ref _baseline, value);
        }

        public long Received => Volatile.Read(ref _received);

        public void CountArrival() => Interlocked.Increment(ref _received);
    }

    /// <summary>One SSE stream: when each revision's event arrived.</summary>
    sealed class Watcher
    {
        public TaskCompletionSource<bool> Connected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Lock Sync { get; } = new();

        /// <summary>Revision → <see cref="Stopwatch.GetTimestamp"/> at arrival; guarded by <see cref="Sync"/>.</summary>
        public Dictionary<long, long> Arrivals { get; } = [];

        /// <summary>Why the watcher did not connect.</summary>
        public string? Error { get; private set; }

        /// <summary>Why the stream ended before the run stopped it.</summary>
        public string? Lost { get; private set; }

        public int Malformed { get; private set; }

        public async Task RunAsync(HttpClient client, string path, SemaphoreSlim gate, RunState run, CancellationToken connectDeadline, CancellationToken stop)
        {
            HttpResponseMessage? response = null;
            try
            {
                using (var connect = CancellationTokenSource.CreateLinkedTokenSource(connectDeadline, stop))
                {
                    await gate.WaitAsync(connect.Token);
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Get, path);
                        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                        response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connect.Token);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Error = string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                    Connected.TrySetResult(false);
                    return;
                }

                Connected.TrySetResult(true);
                await using var stream = await response.Content.ReadAsStreamAsync(stop);
                await foreach (var item in SseParser.Create(stream, ParseRevision).EnumerateAsync(stop))
                {
                    var arrival = Stopwatch.GetTimestamp();
                    if (item.Data == -2)
                    {
                        Malformed++;
                    }
                    else if (item.Data >= 0 && item.Data > run.Baseline)
                    {
                        bool added;
                        lock (Sync)
                        {
                            added = Arrivals.TryAdd(item.Data, arrival);
                        }

                        if (added)
                        {
                            run.CountArrival();
                        }
                    }
                }

                Lost = "the server closed the stream";
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // The run is over.
            }
            catch (Exception e)
            {
                if (Connected.Task.IsCompleted)
                {
                    Lost = $"{e.GetType().Name}: {e.Message}";
                }
                else
                {
                    Error = e is OperationCanceledException ? "no answer within the connect phase" : $"{e.GetType().Name}: {e.Message}";
                }
            }
            finally
            {
                response?.Dispose();
                Connected.TrySetResult(false);
            }
        }
    }

    sealed record Body(string config_value);
}
