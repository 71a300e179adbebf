// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Keel.Client.Tests.Infrastructure.ClientHarness;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.Configuration;

/// <summary>The last-known-good file: how it is written, what it never holds, and starts that must do without Keel.</summary>
public sealed class KeelConfigurationCacheTests : IDisposable
{
    readonly string _cacheDir = Path.Combine(Path.GetTempPath(), "keel-client-tests", Guid.NewGuid().ToString("N"), "cache");

    public void Dispose() => DeleteDirectory(Path.GetDirectoryName(_cacheDir)!);

    [Fact]
    public async Task TheFile_IsOwnerOnly_HoldsNoSecret_AndServesAStartWhileKeelIsDown()
    {
        var service = TestHttp.Service();
        var server = await KeelTestServer.StartAsync();
        var address = server.BaseAddress;
        string path;
        try
        {
            await server.Client.PutAsync(service, "db.host", "db.internal");
            await server.Client.PutAsync(service, "db.password", "s3cr3t-plaintext-value", encrypt: true);
            await server.Client.PutAsync(service, "limits", """{"rps": 7}""", "json");
            using var configuration = Build(address, service, o => o.UseFileCache(_cacheDir));
            Assert.Equal("s3cr3t-plaintext-value", configuration["db:password"]);
            path = configuration.Keel().CachePath!;
            await EventuallyAsync(() => File.Exists(path), "the cache file");

            await server.Client.PutAsync(service, "db.host", "db2.internal");
            await EventuallyAsync(() => File.ReadAllText(path).Contains("db2.internal", StringComparison.Ordinal), "the cache file to follow the change");
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

        var bytes = File.ReadAllBytes(path);
        Assert.DoesNotContain("s3cr3t", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.DoesNotContain("db.password", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_cacheDir, "*.tmp"));

        using var held = HoldPort(address);
        using var offline = Build(address, service, o => o.UseFileCache(_cacheDir).ConfigureStartup(s => s.Timeout = TimeSpan.FromMilliseconds(500)));
        Assert.Equal("db2.internal", offline["db:host"]);
        Assert.Equal("7", offline["limits:rps"]);
        Assert.Null(offline["db:password"]);
        Assert.Equal(KeelDataSource.Cache, offline.Keel().Status.Source);
    }

    [Theory]
    [InlineData("{ this is not json")]
    [InlineData("""{"format": "keel-client-cache/1", "kind": "config", "identity": "http://elsewhere/\nother/prod", "written_at": "2026-01-01T00:00:00Z", "payload": {"selections": []}}""")]
    [InlineData("""{"format": "something-else", "payload": {}}""")]
    public async Task ACorruptOrForeignFile_IsIgnoredWithAWarning(string content)
    {
        var nowhere = Unreachable();
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var first = Build(nowhere, "svc", o => o.UseFileCache(_cacheDir).ConfigureStartup(s => s.Timeout = TimeSpan.FromMilliseconds(200)), optional: true);
        var path = first.Keel().CachePath!;
        Directory.CreateDirectory(_cacheDir);
        await File.WriteAllTextAsync(path, content, Ct);

        var failure = Assert.Throws<KeelConfigurationException>(() =>
            Build(nowhere, "svc", o => o.UseFileCache(_cacheDir).UseLoggerFactory(factory).ConfigureStartup(s => s.Timeout = TimeSpan.FromMilliseconds(200))));
        Assert.NotNull(failure.InnerException);
        Assert.Contains(logs.Lines, l => l.Contains("is ignored", StringComparison.Ordinal));
    }
}
