// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Security;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecurityStartupTests
{
    [Fact]
    public async Task FirstStart_WithoutAdminToken_WritesOneOwnerOnlyFile_ThatWorks_AndKeepsIt()
    {
        var dataDir = KeelTestServer.NewDataDir();
        try
        {
            string secret;
            await using (var server = await KeelTestServer.StartAsync(dataDir, "Keel:Security:AdminToken="))
            {
                var file = Path.Combine(dataDir, "admin.token");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDir, "master.key")));
                secret = (await File.ReadAllTextAsync(file, Ct)).Trim();
                using var client = server.CreateClient(secret);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tokens", Ct)).StatusCode);
                await (await server.CreateClient(null).GetAsync("/api/v1/tokens", Ct)).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
            }

            await using (var restarted = await KeelTestServer.StartAsync(dataDir, "Keel:Security:AdminToken="))
            {
                Assert.Equal(secret, (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin.token"), Ct)).Trim());
                using var client = restarted.CreateClient(secret);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tokens", Ct)).StatusCode);
            }
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact]
    public async Task AdminTokenFromEnvironment_ReplacesTheBootstrapToken()
    {
        var dataDir = KeelTestServer.NewDataDir();
        try
        {
            await using (await KeelTestServer.StartAsync(dataDir))
            {
            }

            const string replacement = "another-admin-token-for-this-test-0001";
            await using var server = await KeelTestServer.StartAsync(dataDir, "Keel:Security:AdminToken=" + replacement);
            Assert.Equal(HttpStatusCode.OK, (await server.CreateClient(replacement).GetAsync("/api/v1/tokens", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.CreateClient(TestTokens.Admin).GetAsync("/api/v1/tokens", Ct)).StatusCode);
            Assert.False(File.Exists(Path.Combine(dataDir, "admin.token")));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Theory]
    [InlineData("Keel:Security:AdminToken=short", "KEEL_ADMIN_TOKEN")]
    [InlineData("Keel:Encryption:MasterKey=bm90LTMyLWJ5dGVz", "KEEL_MASTER_KEY")]
    public async Task Start_RefusesAnUnacceptableSecretSetting_WithoutEchoingIt(string setting, string named)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(null, setting));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(setting[(setting.IndexOf('=') + 1)..], e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MasterKeyFromEnvironment_IsUsed_AndAnotherOneIsRefused()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        try
        {
            await using (var server = await KeelTestServer.StartAsync(dataDir, "Keel:Encryption:MasterKey=" + key))
            {
                await server.Client.PutAsync(ConfigPath(Service(), "prod", "k"), new { config_value = "v", encrypt = true });
                Assert.False(File.Exists(Path.Combine(dataDir, "master.key")));
            }

            var other = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var e = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(dataDir, "Keel:Encryption:MasterKey=" + other));
            Assert.Contains("master key", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }
}
