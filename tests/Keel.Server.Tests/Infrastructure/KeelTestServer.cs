// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Server.Hosting;
using Keel.Server.Watch;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>
/// The real Keel server, in this process, on Kestrel on a free loopback port, over a real SQLite file in its own temporary
/// data folder.
/// </summary>
public sealed class KeelTestServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly bool _ownsDataDir;
    bool _stopped;

    KeelTestServer(WebApplication app, string dataDir, bool ownsDataDir)
    {
        _app = app;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
    }

    public string DataDir { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public IServiceProvider Services => _app.Services;

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "keel-server-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Starts a server; <paramref name="settings"/> are configuration overrides such as <c>Keel:Cache:MaxEntries=10</c>.</summary>
    public static Task<KeelTestServer> StartAsync(string? dataDir = null, params string[] settings) =>
        StartAsync(dataDir, null, settings);

    public static async Task<KeelTestServer> StartAsync(string? dataDir, Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        var ownsDataDir = dataDir is null;
        dataDir ??= NewDataDir();
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--data-dir", dataDir,
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
            "--Logging:LogLevel:Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware=Critical",
            "--Keel:Security:AdminToken=" + TestTokens.Admin,
            .. settings.Select(s => "--" + s),
        ];
        var app = KeelHost.Build(args, configure);
        var server = new KeelTestServer(app, dataDir, ownsDataDir);
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseAddress = new Uri(address);
        server.Client = server.CreateClient(TestTokens.Admin);
        return server;
    }

    /// <summary>A client that sends <paramref name="token"/> as its bearer token, or none.</summary>
    public HttpClient CreateClient(string? token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        return client;
    }

    /// <summary>Creates an evaluation token for one service and environment through the API, and returns its secret.</summary>
    public async Task<string> CreateEvaluationTokenAsync(string service, string environment)
    {
        using var response = await Client.PostAsync(
            "/api/v1/tokens",
            Http.Json(new { name = $"eval-{service}-{environment}", kind = "evaluation", service_name = service, environment }),
            TestContext.Current.CancellationToken);
        return (await response.OkJsonAsync(System.Net.HttpStatusCode.Created)).GetProperty("token").GetString()!;
    }

    /// <summary>Creates an evaluation token for one service and environment, and returns a client that sends it.</summary>
    public async Task<HttpClient> CreateEvaluationClientAsync(string service, string environment) =>
        CreateClient(await CreateEvaluationTokenAsync(service, environment));

    /// <summary>Creates a token through the API with the admin client, and returns a client that sends it.</summary>
    public async Task<HttpClient> CreateTokenClientAsync(IReadOnlyList<string> permissions, IReadOnlyList<string> scopes, string name = "test")
    {
        using var response = await Client.PostAsync(
            "/api/v1/tokens", Http.Json(new { name, permissions, scopes }), TestContext.Current.CancellationToken);
        var body = await response.OkJsonAsync(System.Net.HttpStatusCode.Created);
        return CreateClient(body.GetProperty("token").GetString());
    }

    public T GetRequiredService<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>
    /// Waits until the change feed, which fills from the store in the background after each commit, holds every change
    /// committed so far: past that point nothing the feed does (waking watchers, invalidating the cache again) is still to come.
    /// </summary>
    public async Task FeedSettledAsync()
    {
        var revision = await GetRequiredService<IStoreLifecycle>().GetRevisionAsync(TestContext.Current.CancellationToken);
        var feed = GetRequiredService<ChangeFeed>();
        while (feed.Through < revision)
        {
            await feed.WaitPastAsync(feed.Through).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Stops gracefully and closes the store, keeping the data folder for a restart.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_ownsDataDir)
        {
            DeleteDataDir(DataDir);
        }
    }

    public static void DeleteDataDir(string dataDir)
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; failing the run over it is not.
        }
    }
}

/// <summary>One server shared by the tests of a class; each test writes under its own service name.</summary>
public class ServerFixture : IAsyncLifetime
{
    KeelTestServer? _server;

    public KeelTestServer Server => _server ?? throw new InvalidOperationException("The server is not started.");

    public HttpClient Client => Server.Client;

    protected virtual string[] Settings => [];

    public virtual async ValueTask InitializeAsync() => _server = await KeelTestServer.StartAsync(null, Settings);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
