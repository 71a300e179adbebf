// Copyright (c) Keel contributors. Licensed under the MIT License.

using BenchmarkDotNet.Attributes;
using Keel.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
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
    const string AdminToken = "keel-bench-admin-token-0123456789abcdef";
    const int Keys = 10_000;

    WebApplication _server = null!;
    string _dataDir = null!;
    ConfigurationRoot _keel = null!;
    ConfigurationRoot _memory = null!;
    IOptionsMonitor<PoolOptions> _keelOptions = null!;
    IOptionsMonitor<PoolOptions> _memoryOptions = null!;
    ServiceProvider _keelServices = null!;
    ServiceProvider _memoryServices = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dataDir = Path.Combine(Path.GetTempPath(), "keel-client-bench-" + Guid.NewGuid().ToString("N"));
        _server = KeelHost.Build(["--urls", "http://127.0.0.1:0", "--data-dir", _dataDir, "--Keel:Security:AdminToken=" + AdminToken, "--Logging:LogLevel:Default=Warning"]);
        await _server.StartAsync();
        var address = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using (var http = new HttpClient { BaseAddress = address })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
            for (var start = 0; start < Keys; start += 1000)
            {
                var configs = Enumerable.Range(start, 1000).Select(i => new { config_key = $"section{i % 100}.key{i}", config_value = $"value-{i}" }).ToList();
                configs[0] = new { config_key = "pool.size", config_value = "20" };
                using var batch = await http.PostAsync("/api/v1/config/batch-set", new StringContent(
                    System.Text.Json.JsonSerializer.Serialize(new { service_name = "bench", environment = "prod", configs }), System.Text.Encoding.UTF8, "application/json"));
                batch.EnsureSuccessStatusCode();
            }
        }

        _keel = (ConfigurationRoot)new ConfigurationBuilder().AddKeel(o => o.Connect(address, AdminToken).Select("bench", "prod")).Build();
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
        Directory.Delete(_dataDir, recursive: true);
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
