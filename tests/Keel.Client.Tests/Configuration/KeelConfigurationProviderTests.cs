// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Client.Configuration;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using static Keel.Client.Tests.Infrastructure.ClientHarness;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.Configuration;

/// <summary>The provider against the real server in this process: what it reads, how changes reach it, and how often it reloads.</summary>
public class KeelConfigurationProviderTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    Uri Server => fixture.Server.BaseAddress;

    HttpClient Admin => fixture.Client;

    [Fact]
    public async Task Load_MapsDotsToSections_AndFlattensJsonAndYamlValues()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "db.pool.size", "20", "number");
        await Admin.PutAsync(service, "feature.enabled", "true", "boolean");
        await Admin.PutAsync(service, @"host\.name.primary", "a.example");
        await Admin.PutAsync(service, "limits", """{"rps": 100, "burst": {"max": 5}, "zones": ["eu", "us"], "note": null, "empty": {}}""", "json");
        await Admin.PutAsync(service, "retry", "attempts: 3\nbackoff:\n  - 1s\n  - 5s\n", "yaml");

        using var configuration = Build(Server, service);

        Assert.Equal("20", configuration["db:pool:size"]);
        Assert.Equal("true", configuration["feature:enabled"]);
        Assert.Equal("a.example", configuration["host.name:primary"]);
        Assert.Equal("100", configuration["limits:rps"]);
        Assert.Equal("5", configuration["limits:burst:max"]);
        Assert.Equal(["eu", "us"], configuration.GetSection("limits:zones").GetChildren().Select(c => c.Value));
        Assert.Equal("", configuration["limits:note"]);
        Assert.True(configuration.GetSection("limits:empty").Exists() || configuration.GetSection("limits").GetChildren().Any(c => c.Key == "empty"));
        Assert.Equal("3", configuration["retry:attempts"]);
        Assert.Equal("5s", configuration["retry:backoff:1"]);
        Assert.Null(configuration["limits"]);
        Assert.Equal(20, configuration.GetValue<int>("DB:Pool:Size"));
        var status = configuration.Keel().Status;
        Assert.Equal(KeelDataSource.Server, status.Source);
        Assert.True(status.Revision > 0);
    }

    [Fact]
    public async Task Select_Repeated_TheLaterSelectionWins_AndAPrefixSelectsAndTrims()
    {
        var shared = TestHttp.Service() + "-shared";
        var own = TestHttp.Service();
        await Admin.PutAsync(shared, "log.level", "Warning");
        await Admin.PutAsync(shared, "region", "eu");
        await Admin.PutAsync(own, "app.log.level", "Debug");
        await Admin.PutAsync(own, "other.key", "not selected");

        using var configuration = new ConfigurationBuilder()
            .AddKeel(o => o.Connect(Server, TestTokens.Admin)
                .Select(shared, "prod")
                .Select(own, "prod", keyPrefix: "app.")
                .TrimKeyPrefix("app."))
            .Build()
            .AsRoot();

        Assert.Equal("Debug", configuration["log:level"]);
        Assert.Equal("eu", configuration["region"]);
        Assert.Null(configuration["other:key"]);
        Assert.Null(configuration["app:log:level"]);

        await Admin.PutAsync(own, "other.key", "still not selected");
        await Admin.PutAsync(own, "app.log.level", "Trace");
        await EventuallyAsync(() => configuration["log:level"] == "Trace", "the prefixed key's change");
        Assert.Null(configuration["other:key"]);
    }

    [Fact]
    public async Task APut_ReachesTheConfiguration_WithOneReload_AndAnUnchangedPutWithNone()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "timeout", "5");
        using var configuration = Build(Server, service);
        var reloads = CountReloads(configuration);
        KeelChangedEventArgs? changed = null;
        configuration.Keel().Changed += (_, e) => changed = e;

        await Admin.PutAsync(service, "timeout", "6");
        await EventuallyAsync(() => configuration["timeout"] == "6", "the new value");
        Assert.Equal(1, reloads());
        Assert.NotNull(changed);
        Assert.Equal(["timeout"], changed.Changed);
        Assert.Empty(changed.Added);
        Assert.Empty(changed.Removed);

        // A new version with the same value is a change in Keel but not of the configuration.
        var revision = configuration.Keel().Status.Revision;
        await Admin.PutAsync(service, "timeout", "6");
        await EventuallyAsync(() => configuration.Keel().Status.Revision > revision, "the unchanged write's revision");
        await QuietAsync();
        Assert.Equal(1, reloads());
    }

    [Fact]
    public async Task ABatchSet_IsOneReload_AndADeleteRemovesTheKey()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "a", "1");
        using var configuration = Build(Server, service);
        var reloads = CountReloads(configuration);

        using var batch = await Admin.PostAsync("/api/v1/config/batch-set", TestHttp.Json(new
        {
            service_name = service,
            environment = "prod",
            configs = new object[]
            {
                new { config_key = "a", config_value = "2" },
                new { config_key = "b", config_value = "3" },
                new { config_key = "c.d", config_value = "4" },
            },
        }), Ct);
        await batch.OkJsonAsync();
        await EventuallyAsync(() => configuration["c:d"] == "4", "the batch");
        Assert.Equal(("2", "3"), (configuration["a"], configuration["b"]));
        await QuietAsync();
        Assert.Equal(1, reloads());

        await Admin.DeleteAsync(service, "b");
        await EventuallyAsync(() => configuration["b"] is null, "the delete");
        Assert.Equal(2, reloads());
    }

    [Fact]
    public async Task KeysThatDifferOnlyInCase_TheFirstInOrdinalOrderWins_WithOneWarning()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "Mode", "upper");
        await Admin.PutAsync(service, "mode", "lower");
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));

        using var configuration = Build(Server, service, o => o.UseLoggerFactory(factory));

        Assert.Equal("upper", configuration["mode"]);
        Assert.Single(logs.Lines, l => l.Contains("differ only in case", StringComparison.Ordinal));
        await Admin.PutAsync(service, "other", "x");
        await EventuallyAsync(() => configuration["other"] == "x", "another change");
        Assert.Single(logs.Lines, l => l.Contains("differ only in case", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EncryptedValues_WithoutSecretsRead_AreLeftOutWithOneWarning_OrFailTheLoadWhenRequired()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "db.password", "hunter2-secret", encrypt: true);
        await Admin.PutAsync(service, "db.host", "db.internal");
        var token = await CreateTokenAsync(["read"], [$"{service}/prod"]);
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));

        using var configuration = Build(Server, service, o => o.UseLoggerFactory(factory), token: token);
        Assert.Equal("db.internal", configuration["db:host"]);
        Assert.Null(configuration["db:password"]);
        Assert.Single(logs.Lines, l => l.Contains("db.password", StringComparison.Ordinal) && l.Contains("secrets:read", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("hunter2", StringComparison.Ordinal));

        var failure = Assert.Throws<KeelConfigurationException>(() => Build(Server, service, o => o.RequireSecrets(), token: token));
        Assert.Contains("secrets:read", failure.Message, StringComparison.Ordinal);

        var reader = await CreateTokenAsync(["read", "secrets:read"], [$"{service}/prod"]);
        using var revealed = Build(Server, service, token: reader);
        Assert.Equal("hunter2-secret", revealed["db:password"]);
    }

    [Fact]
    public async Task Startup_WithoutKeel_AnOptionalSourceStartsEmpty_AndARequiredOneThrowsAfterItsMinimumDelay()
    {
        var nowhere = Unreachable();
        using var empty = Build(nowhere, "absent", o => o.ConfigureStartup(s => s.Timeout = TimeSpan.FromSeconds(1)), optional: true);
        Assert.Empty(empty.AsEnumerable());
        Assert.Equal(KeelDataSource.None, empty.Keel().Status.Source);
        Assert.NotNull(empty.Keel().Status.LastError);

        var started = DateTime.UtcNow;
        var failure = Assert.Throws<KeelConfigurationException>(() => new ConfigurationBuilder()
            .AddKeel(o => o.Connect(nowhere, "token").Select("absent", "prod").ConfigureStartup(s =>
            {
                s.Timeout = TimeSpan.FromMilliseconds(300);
                s.MinDelayBeforeFailure = TimeSpan.FromSeconds(2);
            }))
            .Build());
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.9), "failed before the minimum delay");
        Assert.IsType<HttpRequestException>(failure.InnerException);
    }

    [Fact]
    public void Startup_WithARefusedToken_IsNotRetried()
    {
        var started = DateTime.UtcNow;
        var failure = Assert.Throws<KeelConfigurationException>(() =>
            Build(Server, "any-service", o => o.ConfigureStartup(s => s.Timeout = TimeSpan.FromSeconds(30)), token: "not-a-token"));
        Assert.Equal(401, failure.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "a refused token was retried until the startup timeout");
    }

    [Theory]
    [InlineData("ftp://keel/")]
    [InlineData("/relative")]
    public void Connect_ToAnAddressThatIsNotHttp_ThrowsAtOnce(string address) =>
        Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddKeel(o => o.Connect(new Uri(address, UriKind.RelativeOrAbsolute), "t").Select("s", "prod")));

    [Fact]
    public void Options_Incomplete_OrInvalid_ThrowAtOnce()
    {
        Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddKeel(o => o.Select("s", "prod")));
        Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddKeel(o => o.Connect(Server, "t")));
        Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddKeel(o => o.Connect(Server, "t").Select("Not A Name", "prod")));
        Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddKeel(o => o.Connect(Server, "t").Select("s", "prod")
            .ConfigureRefresh(r => r.MaxBackoff = TimeSpan.FromMilliseconds(1))));
        Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddKeel(o => o.Connect(Server, "t").Select("s", "prod")
            .ConfigureStartup(s => s.Timeout = TimeSpan.Zero)));
    }

    [Theory]
    [InlineData(KeelRefreshMode.LongPoll, KeelTransport.LongPoll)]
    [InlineData(KeelRefreshMode.Poll, KeelTransport.Poll)]
    [InlineData(KeelRefreshMode.Watch, KeelTransport.Watch)]
    public async Task EveryRefreshMode_DeliversAChange(KeelRefreshMode mode, KeelTransport transport)
    {
        var service = TestHttp.Service() + "-" + mode.ToString().ToLowerInvariant();
        await Admin.PutAsync(service, "k", "1");
        using var configuration = Build(Server, service, o => o.ConfigureRefresh(r =>
        {
            r.Mode = mode;
            r.PollInterval = TimeSpan.FromMilliseconds(200);
        }));

        await Admin.PutAsync(service, "k", "2");
        await EventuallyAsync(() => configuration["k"] == "2", $"the change through {mode}");
        await EventuallyAsync(() => configuration.Keel().Status.Transport == transport, $"transport {transport}");
    }

    [Fact]
    public async Task RefreshOff_ChangesOnlyThroughTheRefresher()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "k", "1");
        using var configuration = Build(Server, service, o => o.ConfigureRefresh(r => r.Mode = KeelRefreshMode.Off));
        await Admin.PutAsync(service, "k", "2");
        await QuietAsync();
        Assert.Equal("1", configuration["k"]);

        await configuration.Keel().RefreshAsync(Ct);
        Assert.Equal("2", configuration["k"]);
        Assert.True(await configuration.Keel().TryRefreshAsync(Ct));
    }

    [Fact]
    public async Task AddKeel_Services_RegisterTheRefresherAndAHealthCheck()
    {
        var service = TestHttp.Service();
        await Admin.PutAsync(service, "k", "1");
        using var configuration = Build(Server, service);
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddKeel();
        await using var provider = services.BuildServiceProvider();

        var refresher = provider.GetRequiredService<IKeelConfigurationRefresher>();
        Assert.Same(configuration.Keel(), refresher);
        Assert.Single(provider.GetRequiredService<IKeelConfigurationRefresherProvider>().Refreshers);
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Healthy, report.Entries["keel"].Status);
        Assert.Equal("Server", report.Entries["keel"].Data["source"]);
    }

    async Task<string> CreateTokenAsync(string[] permissions, string[] scopes)
    {
        using var response = await Admin.PostAsync("/api/v1/tokens", TestHttp.Json(new { name = "client", permissions, scopes }), Ct);
        return (await response.OkJsonAsync(HttpStatusCode.Created)).GetProperty("token").GetString()!;
    }
}
