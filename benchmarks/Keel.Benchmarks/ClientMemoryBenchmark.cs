// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Keel.Benchmarks;

/// <summary>
/// The memory a configuration provider keeps for 10,000 keys, against the in-memory provider holding the same entries:
/// <c>client-memory [--keys 10000] [--clients 5]</c>.
/// </summary>
/// <remarks>
/// The server runs in this process: one provider loads every key first and is disposed of, so that the server's cache is
/// full and its own memory no longer grows. Then <c>--clients</c> providers are built and kept; the figure is the growth of
/// the managed heap after a full collection, per provider. It holds everything a provider keeps: its entries, its
/// <c>HttpClient</c> and the open watch. The baseline is <c>--clients</c> in-memory configurations of copies of the same
/// entries, measured the same way in the same run.
/// </remarks>
static class ClientMemoryBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = ConfigLoader.Parse(args);
        var keys = int.Parse(options.GetValueOrDefault("keys", "10000"), CultureInfo.InvariantCulture);
        var clients = int.Parse(options.GetValueOrDefault("clients", "5"), CultureInfo.InvariantCulture);
        if (keys < 1 || clients < 1)
        {
            Console.Error.WriteLine("--keys and --clients must be positive.");
            return 2;
        }

        await using var server = await BenchServer.StartAsync();
        await server.LoadAsync(keys);
        KeyValuePair<string, string?>[] entries;
        using (var warmUp = Keel(server))
        {
            entries = [.. warmUp.AsEnumerable().Where(e => e.Value is not null)];
        }

        if (entries.Length != keys)
        {
            Console.Error.WriteLine($"The provider loaded {entries.Length} entries, not {keys}.");
            return 1;
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        var keel = Measure(clients, () => Keel(server));
        var memory = Measure(clients, () => (ConfigurationRoot)new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>(new string(e.Key), new string(e.Value)))).Build());

        Console.WriteLine("| Keys | Keel provider (KiB) | In-memory provider (KiB) | Ratio | Keel bytes per key |");
        Console.WriteLine("|-----:|--------------------:|-------------------------:|------:|-------------------:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {keys:N0} | {keel / 1024:N0} | {memory / 1024:N0} | {keel / memory:F2} | {keel / keys:N0} |"));
        return 0;
    }

    static ConfigurationRoot Keel(BenchServer server) =>
        (ConfigurationRoot)new ConfigurationBuilder().AddKeel(o => o.Connect(server.Address, BenchServer.AdminToken).Select("bench", "prod")).Build();

    /// <summary>The managed heap's growth per configuration, over <paramref name="count"/> configurations kept alive.</summary>
    static double Measure(int count, Func<ConfigurationRoot> build)
    {
        var kept = new List<ConfigurationRoot>(count);
        var before = Settled();
        for (var i = 0; i < count; i++)
        {
            kept.Add(build());
        }

        var after = Settled();
        var perConfiguration = (after - before) / (double)count;
        foreach (var root in kept)
        {
            root.Dispose();
        }

        return perConfiguration;
    }

    static long Settled()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
