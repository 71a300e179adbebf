// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;
using Keel.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.Benchmarks;

/// <summary>A Keel server in this process on an ephemeral loopback port, over SQLite in a folder of its own, for the client benchmarks.</summary>
sealed class BenchServer : IAsyncDisposable
{
    public const string AdminToken = "keel-bench-admin-token-0123456789abcdef";

    readonly WebApplication _app;
    readonly string _dataDir;

    BenchServer(WebApplication app, string dataDir, Uri address)
    {
        _app = app;
        _dataDir = dataDir;
        Address = address;
        Admin = new HttpClient { BaseAddress = address };
        Admin.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
    }

    public Uri Address { get; }

    /// <summary>A client with the admin token.</summary>
    public HttpClient Admin { get; }

    /// <summary>Starts a server without the per-token and per-address watcher caps, so that one process may open many watches.</summary>
    public static async Task<BenchServer> StartAsync()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "keel-client-bench-" + Guid.NewGuid().ToString("N"));
        var app = KeelHost.Build(
        [
            "--urls", "http://127.0.0.1:0", "--data-dir", dataDir, "--Keel:Security:AdminToken=" + AdminToken,
            "--Keel:Watch:MaxWatchersPerToken=0", "--Keel:Watch:MaxWatchersPerClientAddress=0", "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new BenchServer(app, dataDir, address);
    }

    /// <summary>Writes <paramref name="keys"/> string keys <c>section{i % 100}.key{i}</c> = <c>value-{i}</c> to bench/prod, 1,000 per batch; the first is <c>pool.size</c> = 20.</summary>
    public async Task LoadAsync(int keys)
    {
        for (var start = 0; start < keys; start += 1000)
        {
            var configs = Enumerable.Range(start, Math.Min(1000, keys - start)).Select(i => new { config_key = $"section{i % 100}.key{i}", config_value = $"value-{i}" }).ToList();
            if (start == 0)
            {
                configs[0] = new { config_key = "pool.size", config_value = "20" };
            }

            using var body = new StringContent(JsonSerializer.Serialize(new { service_name = "bench", environment = "prod", configs }), Encoding.UTF8, "application/json");
            using var batch = await Admin.PostAsync("/api/v1/config/batch-set", body);
            batch.EnsureSuccessStatusCode();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }
}
