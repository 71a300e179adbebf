// Copyright (c) Keel contributors. Licensed under the MIT License.

using BenchmarkDotNet.Running;
using Keel.Benchmarks;

if (args.Length > 0 && args[0] == "load")
{
    return await ConfigLoader.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "ceiling")
{
    return await CeilingServer.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "propagation")
{
    return await PropagationBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "hit-rate")
{
    return await HitRateBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "zipf-load")
{
    return await ZipfReadLoad.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "reconnect")
{
    return await ReconnectSpreadBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "client-propagation")
{
    return await ClientPropagationBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "cache-entry-bytes")
{
    return await CacheEntryBytesBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "client-memory")
{
    return await ClientMemoryBenchmark.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(ConfigCacheBenchmarks).Assembly).Run(args);
return 0;
