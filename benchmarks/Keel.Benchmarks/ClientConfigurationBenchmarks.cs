// Copyright (c) Keel contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Keel.Benchmarks;

/// <summary>
/// A read of one key through <c>IConfiguration["x"]</c> and through <c>IOptionsMonitor&lt;T&gt;.CurrentValue</c>, with the
/// Keel provider holding 10,000 keys read from a real server in this process, against the same reads from the in-memory
/// provider holding the same keys (the baseline).
/// </summary>
[MemoryDiagnoser]
public class ClientConfigurationBenchmarks
{
    const int Keys = 10_000;

    BenchServer _server = null!;
    ConfigurationRoot _keel = null!;
    ConfigurationRoot _memory = null!;
    IOptionsMonitor<PoolOptions> _keelOptions = null!;
    IOptionsMonitor<PoolOptions> _memoryOptions = null!;
    ServiceProvider _keelServices = null!;
    ServiceProvider _memoryServices = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await BenchServer.StartAsync();
        await _server.LoadAsync(Keys);
        _keel = (ConfigurationRoot)new ConfigurationBuilder().AddKeel(o => o.Connect(_server.Address, BenchServer.AdminToken).Select("bench", "prod")).Build();
        _memory = (ConfigurationRoot)new ConfigurationBuilder().AddInMemoryCollection(_keel.AsEnumerable()).Build();
        _keelServices = Services(_keel);
        _memoryServices = Services(_memory);
        _keelOptions = _keelServices.GetRequiredService<IOptionsMonitor<PoolOptions>>();
        _memoryOptions = _memoryServices.GetRequiredService<IOptionsMonitor<PoolOptions>>();
        if (_keel["pool:size"] != "20" || _keelOptions.CurrentValue.Size != 20)
        {
            throw new InvalidOperationException("The Keel provider did not load the seeded keys.");
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _keelServices.DisposeAsync();
        await _memoryServices.DisposeAsync();
        _keel.Dispose();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public string? IndexerInMemory() => _memory["pool:size"];

    [Benchmark]
    public string? IndexerKeel() => _keel["pool:size"];

    [Benchmark]
    public int OptionsMonitorInMemory() => _memoryOptions.CurrentValue.Size;

    [Benchmark]
    public int OptionsMonitorKeel() => _keelOptions.CurrentValue.Size;

    static ServiceProvider Services(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.Configure<PoolOptions>(configuration.GetSection("pool"));
        return services.BuildServiceProvider();
    }

    public sealed class PoolOptions
    {
        public int Size { get; set; }
    }
}
