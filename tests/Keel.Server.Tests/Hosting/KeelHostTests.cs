// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Hosting;
using Keel.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Hosting;

public class KeelHostTests
{
    [Fact]
    public async Task Build_ListensOnLoopback8080_WhenNoUrlIsConfigured()
    {
        await using var app = KeelHost.Build(["--data-dir", KeelTestServer.NewDataDir()]);

        Assert.Equal("http://127.0.0.1:8080", app.Configuration[WebHostDefaults.ServerUrlsKey]);
    }

    [Fact]
    public async Task Build_KeepsTheUrlsGivenOnTheCommandLine()
    {
        await using var app = KeelHost.Build(["--urls", "http://127.0.0.1:9999", "--data-dir", KeelTestServer.NewDataDir()]);

        Assert.Equal("http://127.0.0.1:9999", app.Configuration[WebHostDefaults.ServerUrlsKey]);
    }

    [Fact]
    public async Task Build_TakesTheDataFolderFromDataDir_AndDefaultsToKeelData()
    {
        await using var given = KeelHost.Build(["--data-dir", "/tmp/somewhere"]);
        await using var unset = KeelHost.Build([]);

        Assert.Equal("/tmp/somewhere", given.Configuration["Keel:DataDir"]);
        Assert.Equal(Environment.GetEnvironmentVariable("KEEL_DATA_DIR") ?? "keel-data", unset.Configuration["Keel:DataDir"]);
    }

    [Fact]
    public async Task Server_KeepsEveryChangeAcrossARestart()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var path = ConfigPath(Service(), "prod", "k");
        long revision;
        try
        {
            await using (var first = await KeelTestServer.StartAsync(dataDir))
            {
                await first.Client.PutAsync(path, new { config_value = "a" });
                await first.Client.PutAsync(path, new { config_value = "b", change_description = "second" });
                await first.Client.PutAsync(path + "-gone", new { config_value = "x" });
                await first.Client.DeleteAsync(path + "-gone", Ct);
                revision = (await (await first.Client.GetAsync(path[..path.LastIndexOf('/')], Ct)).OkJsonAsync()).GetProperty("revision").GetInt64();
            }

            await using var second = await KeelTestServer.StartAsync(dataDir);
            var body = await (await second.Client.GetAsync(path, Ct)).OkJsonAsync();
            Assert.Equal("b", body.GetProperty("config_value").GetString());
            Assert.Equal(2, body.GetProperty("version").GetInt64());
            Assert.Equal(HttpStatusCode.NotFound, (await second.Client.GetAsync(path + "-gone", Ct)).StatusCode);
            var history = await (await second.Client.GetAsync(path + "/history", Ct)).OkJsonAsync();
            Assert.Equal("second", history.GetProperty("versions")[0].GetProperty("change_description").GetString());

            var next = await (await second.Client.PutAsync(path, new { config_value = "c" })).OkJsonAsync();
            Assert.Equal(3, next.GetProperty("version").GetInt64());
            Assert.Equal(revision + 1, next.GetProperty("revision").GetInt64());
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact]
    public async Task Start_Fails_WhenAnotherServerHoldsTheDataFolder()
    {
        await using var first = await KeelTestServer.StartAsync();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => KeelTestServer.StartAsync(first.DataDir));

        Assert.Contains("in use by another Keel server", e.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await first.Client.GetAsync("/readyz", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("Keel:Cache:MaxEntries=0", "MaxEntries")]
    [InlineData("Keel:Cache:MaxBytes=10", "MaxBytes")]
    [InlineData("Keel:Limits:MaxValueBytes=0", "MaxValueBytes")]
    [InlineData("Keel:Limits:MaxRequestBodyBytes=2048", "MaxRequestBodyBytes must be at least")]
    [InlineData("Keel:Limits:MaxChangeDescriptionLength=0", "MaxChangeDescriptionLength")]
    [InlineData("Keel:Storage:Provider=mongodb", "Provider")]
    [InlineData("Keel:Storage:Sqlite:FileName=../escape.db", "must be a file name")]
    [InlineData("Keel:Storage:Sqlite:BusyTimeout=00:00:00", "BusyTimeout")]
    [InlineData("Keel:Storage:Sqlite:MaxGroupCommitChanges=0", "MaxGroupCommitChanges")]
    [InlineData("Keel:Storage:Postgres:MaxGroupCommitChanges=0", "MaxGroupCommitChanges")]
    [InlineData("Keel:Ofrep:Cors:AllowedOrigins:0=https://app.example/path", "Keel:Ofrep:Cors:AllowedOrigins")]
    [InlineData("Keel:Ofrep:Cors:AllowedOrigins:0=app.example", "Keel:Ofrep:Cors:AllowedOrigins")]
    [InlineData("Keel:Ofrep:Cors:AllowedOrigins:0=ftp://app.example", "Keel:Ofrep:Cors:AllowedOrigins")]
    [InlineData("Keel:Ofrep:Cors:MaxAge=2.00:00:00", "MaxAge")]
    [InlineData("Keel:Watch:MaxWatchersPerToken=-1", "MaxWatchersPerToken")]
    [InlineData("Keel:Watch:MaxWatchersPerClientAddress=-1", "MaxWatchersPerClientAddress")]
    [InlineData("Keel:Search:MaxIndexedCandidates=-1", "MaxIndexedCandidates")]
    public async Task Start_Fails_ForAnInvalidSetting(string setting, string named)
    {
        var dataDir = KeelTestServer.NewDataDir();
        try
        {
            var e = await Assert.ThrowsAsync<OptionsValidationException>(() => KeelTestServer.StartAsync(dataDir, setting));

            Assert.Contains(named, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact]
    public async Task Start_CreatesTheDataFolderOwnerOnly()
    {
        await using var server = await KeelTestServer.StartAsync();

        Assert.True(File.Exists(Path.Combine(server.DataDir, "keel.db")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(server.DataDir));
        }
    }

    [Fact]
    public async Task HealthEndpoints_AnswerWithoutTouchingConfiguration()
    {
        await using var server = await KeelTestServer.StartAsync();

        var healthz = await server.Client.GetAsync("/healthz", Ct);
        var readyz = await server.Client.GetAsync("/readyz", Ct);

        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal("Healthy", await healthz.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal("Healthy", await readyz.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheConfigurationApi()
    {
        await using var server = await KeelTestServer.StartAsync();

        var document = await (await server.Client.GetAsync("/openapi/v1.json", Ct)).OkJsonAsync();

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/config/{service_name}/{environment}/{config_key}", paths);
        Assert.Contains("/api/v1/config/{service_name}/{environment}/{config_key}/history", paths);
        Assert.Contains("/api/v1/config/{service_name}/{environment}/{config_key}/rollback", paths);
        Assert.Contains("/api/v1/config/batch", paths);
        Assert.Contains("/api/v1/cache/stats", paths);
    }
}
