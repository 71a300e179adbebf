// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Keel.Client.Configuration;
using Keel.Client.Flags;
using Keel.Flags;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Keel.Client.Tests.Infrastructure.ClientHarness;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.Flags;

/// <summary>The live flag client against a real server: how changes reach it, what it does without Keel, and its registration.</summary>
public sealed class KeelFlagClientTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    const string Boolean = """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}""";

    const string Targeted = """
        {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
         "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", null]}}
        """;

    readonly string _cacheDir = Path.Combine(Path.GetTempPath(), "keel-client-tests", Guid.NewGuid().ToString("N"), "cache");

    Uri Server => fixture.Server.BaseAddress;

    public void Dispose() => DeleteDirectory(Path.GetDirectoryName(_cacheDir)!);

    [Fact]
    public async Task APut_ReachesTheClientOverTheWatch_WithOneChangedEvent_AndADeleteRemovesTheFlag()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "beta", Boolean);
        using var client = new KeelFlagClient(Options(Server, service));
        await client.StartAsync(Ct);
        Assert.Equal(["beta"], client.Keys);
        Assert.Equal(false, client.Evaluate("beta").Value?.Boolean);
        Assert.Equal(KeelDataSource.Server, client.Status.Source);

        var events = new List<KeelChangedEventArgs>();
        client.Changed += (_, e) => { lock (events) { events.Add(e); } };
        await EventuallyAsync(() => client.Status.Transport == KeelTransport.Watch, "the watch to open");

        await fixture.Client.PutFlagAsync(service, "beta", Targeted);
        await EventuallyAsync(() => client.Evaluate("beta", new Dictionary<string, object?> { ["email"] = "a@example.com" }).Value?.Boolean == true, "the changed flag");
        Assert.Equal(FlagReasons.TargetingMatch, client.Evaluate("beta", new Dictionary<string, object?> { ["email"] = "a@example.com" }).Reason);
        Assert.Equal(false, client.Evaluate("beta", new Dictionary<string, object?> { ["email"] = "a@elsewhere.org" }).Value?.Boolean);

        await fixture.Client.PutFlagAsync(service, "other", Boolean);
        await EventuallyAsync(() => client.Keys.Count == 2, "the added flag");
        await QuietAsync();
        lock (events)
        {
            Assert.Equal(2, events.Count);
            Assert.Equal(["beta"], events[0].Changed);
            Assert.Empty(events[0].Added);
            Assert.Equal(["other"], events[1].Added);
            Assert.True(events[1].Revision > events[0].Revision);
        }

        using (var response = await fixture.Client.DeleteAsync($"/api/v1/flags/{service}/prod/beta", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await EventuallyAsync(() => client.Evaluate("beta").ErrorCode == FlagErrorCodes.FlagNotFound, "the deleted flag to go");
        lock (events)
        {
            Assert.Equal(["beta"], events[^1].Removed);
        }
    }

    [Fact]
    public async Task AFlagOfAnotherEnvironment_OrAConfigurationChange_RaisesNoEvent()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "beta", Boolean);
        using var client = new KeelFlagClient(Options(Server, service));
        await client.StartAsync(Ct);
        await EventuallyAsync(() => client.Status.Transport == KeelTransport.Watch, "the watch to open");
        var events = 0;
        client.Changed += (_, _) => Interlocked.Increment(ref events);

        await fixture.Client.PutFlagAsync(service, "beta", Targeted, environment: "dev");
        await fixture.Client.PutAsync(service, "beta", "a configuration value");
        await fixture.Client.PutFlagAsync(service, "beta", Boolean);
        await QuietAsync();

        Assert.Equal(0, Volatile.Read(ref events));
        Assert.False(await client.RefreshAsync(Ct));
    }

    [Fact]
    public async Task WhileKeelIsDown_AStartServesTheOwnerOnlyFileCache_AndCatchesUpOnceKeelIsBack()
    {
        var service = TestHttp.Service();
        var server = await KeelTestServer.StartAsync();
        var address = server.BaseAddress;
        string path;
        try
        {
            await server.Client.PutFlagAsync(service, "beta", Targeted);
            using var first = new KeelFlagClient(Options(address, service).UseFileCache(_cacheDir));
            await first.StartAsync(Ct);
            path = first.CachePath!;
            await EventuallyAsync(() => File.Exists(path), "the cache file");
        }
        finally
        {
            await server.DisposeAsync();
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_cacheDir));
        }

        using var held = HoldPort(address);
        using var offline = new KeelFlagClient(Options(address, service).UseFileCache(_cacheDir).ConfigureStartup(s => s.Timeout = TimeSpan.FromMilliseconds(300)));
        await offline.StartAsync(Ct);
        Assert.Equal(KeelDataSource.Cache, offline.Status.Source);
        Assert.NotNull(offline.Status.LastError);
        Assert.Equal(true, offline.Evaluate("beta", new Dictionary<string, object?> { ["email"] = "a@example.com" }).Value?.Boolean);
        await Assert.ThrowsAsync<KeelConfigurationException>(() => offline.RefreshAsync(Ct));
        Assert.Equal(["beta"], offline.Keys);
    }

    [Fact]
    public async Task WithNothingReachable_AndNoCache_TheClientStartsEmpty_WithinItsTimeout()
    {
        using var client = new KeelFlagClient(Options(Unreachable(), "svc").ConfigureStartup(s => s.Timeout = TimeSpan.FromMilliseconds(300)));
        var watch = Stopwatch.StartNew();
        await client.StartAsync(Ct);

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(KeelDataSource.None, client.Status.Source);
        Assert.Empty(client.Keys);
        var result = client.Evaluate("beta");
        Assert.Equal(FlagReasons.Error, result.Reason);
        Assert.Equal(FlagErrorCodes.FlagNotFound, result.ErrorCode);
        await client.StartAsync(Ct);
    }

    [Fact]
    public async Task ARefusedToken_EndsTheStartAtOnce_AndARefreshSaysWhy()
    {
        using var client = new KeelFlagClient(Options(Server, TestHttp.Service(), token: "keel_not-a-token").ConfigureStartup(s => s.Timeout = TimeSpan.FromSeconds(30)));
        var watch = Stopwatch.StartNew();
        await client.StartAsync(Ct);

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(KeelDataSource.None, client.Status.Source);
        var failure = await Assert.ThrowsAsync<KeelConfigurationException>(() => client.RefreshAsync(Ct));
        Assert.Equal(401, failure.StatusCode);
    }

    [Fact]
    public async Task AContextValue_ThatIsNotData_IsAnInvalidContext_AndAJsonContextEvaluatesTheSame()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "beta", Targeted);
        using var client = new KeelFlagClient(Options(Server, service));
        await client.StartAsync(Ct);

        Assert.Equal(FlagErrorCodes.InvalidContext, client.Evaluate("beta", new Dictionary<string, object?> { ["email"] = new Uri("mailto:a@example.com") }).ErrorCode);
        using var context = JsonDocument.Parse("""{"email": "a@example.com"}""");
        Assert.Equal(true, client.Evaluate("beta", context.RootElement).Value?.Boolean);
        using var notAnObject = JsonDocument.Parse("[1]");
        Assert.Equal(FlagErrorCodes.InvalidContext, client.Evaluate("beta", notAnObject.RootElement).ErrorCode);
    }

    [Fact]
    public async Task AChangedHandlerThatThrows_IsLogged_AndNeitherStopsTheOthersNorLaterChanges()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "beta", Boolean);
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var client = new KeelFlagClient(Options(Server, service).UseLoggerFactory(factory));
        await client.StartAsync(Ct);
        await EventuallyAsync(() => client.Status.Transport == KeelTransport.Watch, "the watch to open");
        var heard = 0;
        client.Changed += (_, _) => throw new InvalidOperationException("the application's handler fails");
        client.Changed += (_, _) => Interlocked.Increment(ref heard);

        await fixture.Client.PutFlagAsync(service, "beta", Targeted);
        await EventuallyAsync(() => Volatile.Read(ref heard) == 1, "the second handler");
        await fixture.Client.PutFlagAsync(service, "other", Boolean);
        await EventuallyAsync(() => Volatile.Read(ref heard) == 2, "the next change");

        Assert.Contains(logs.Lines, l => l.Contains("handler of Keel's Changed event threw", StringComparison.Ordinal));
        Assert.Null(client.Status.LastError);
        Assert.Equal(KeelTransport.Watch, client.Status.Transport);
    }

    [Fact]
    public async Task Disposing_OfAClientWhoseStartIsStillTrying_EndsTheStartAtOnce()
    {
        var client = new KeelFlagClient(Options(Unreachable(), "svc").ConfigureStartup(s => s.Timeout = TimeSpan.FromSeconds(60)));
        var start = client.StartAsync(Ct);
        await Task.Delay(300, Ct);
        var watch = Stopwatch.StartNew();
        client.Dispose();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => start.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(failure is OperationCanceledException or ObjectDisposedException, failure.ToString());
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.StartAsync(Ct));
    }

    [Fact]
    public void Options_ThatAreIncomplete_AreRefusedWhenTheClientIsMade()
    {
        Assert.Throws<ArgumentException>(() => new KeelFlagClient(new KeelFlagOptions().Connect(Server, TestTokens.Admin)));
        Assert.Throws<ArgumentException>(() => new KeelFlagClient(new KeelFlagOptions().Select("svc", "prod")));
        Assert.Throws<ArgumentException>(() => new KeelFlagOptions().Select("not a service!", "prod"));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddKeelFlags(o => o.Select("svc", "prod")));
    }

    [Fact]
    public async Task AddKeelFlags_StartsTheClientWithTheHost_AndOneHealthCheckCoversFlagsAndConfiguration()
    {
        var service = TestHttp.Service();
        await fixture.Client.PutFlagAsync(service, "beta", Boolean);
        await fixture.Client.PutAsync(service, "k", "v");

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddKeel(o => o.Connect(Server, TestTokens.Admin).Select(service, "prod"));
        builder.Services.AddKeel().AddKeelFlags(o => o.Connect(Server, TestTokens.Admin).Select(service, "prod"));
        builder.Services.AddHealthChecks();
        Assert.Throws<InvalidOperationException>(() => builder.Services.AddKeelFlags(o => o.Connect(Server, TestTokens.Admin).Select(service, "prod")));
        using var host = builder.Build();
        await host.StartAsync(Ct);
        try
        {
            var client = host.Services.GetRequiredService<KeelFlagClient>();
            Assert.Equal(["beta"], client.Keys);
            Assert.Equal("v", builder.Configuration["k"]);

            var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
            var keel = Assert.Single(report.Entries, e => e.Key == "keel").Value;
            Assert.Equal(HealthStatus.Healthy, keel.Status);
            Assert.Equal("Server", keel.Data["0.source"]);
            Assert.Equal("Server", keel.Data["flags.source"]);
        }
        finally
        {
            await host.StopAsync(Ct);
        }
    }

    static KeelFlagOptions Options(Uri server, string service, string token = TestTokens.Admin) =>
        new KeelFlagOptions().Connect(server, token).Select(service, "prod").ConfigureStartup(s => s.MinDelayBeforeFailure = TimeSpan.Zero);
}
