// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Keys;

/// <summary>A new master key with the old one named as previous: the data keys move under the new one at start.</summary>
public sealed class MasterKeyRotationTests : IDisposable
{
    readonly string _dataDir = KeelTestServer.NewDataDir();
    readonly string _old = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    readonly string _new = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task ANewMasterKey_WithTheOldOneAsPrevious_TakesOverEveryDataKey()
    {
        var path = ConfigPath(Service(), "prod", "password");
        string oldId;
        await using (var server = await KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:MasterKey={_old}"))
        {
            await server.Client.PutAsync(path, new { config_value = "hunter2", encrypt = true });
            oldId = await WrappedByAsync(server);
        }

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:MasterKey={_new}"));
        Assert.Contains("Keel:Encryption:PreviousMasterKeys", refused.ToString(), StringComparison.Ordinal);

        await using (var server = await KeelTestServer.StartAsync(
            _dataDir, $"Keel:Encryption:MasterKey={_new}", $"Keel:Encryption:PreviousMasterKeys:0={_old}"))
        {
            Assert.NotEqual(oldId, await WrappedByAsync(server));
            Assert.Equal("hunter2", (await (await server.Client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        }

        await using (var server = await KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:MasterKey={_new}"))
        {
            Assert.Equal("hunter2", (await (await server.Client.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        }

        await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:MasterKey={_old}"));
    }

    [Fact]
    public async Task APreviousMasterKeyThatIsNotAKey_StopsTheStart_NamingItsPositionNotItsValue()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(
            _dataDir, $"Keel:Encryption:MasterKey={_new}", "Keel:Encryption:PreviousMasterKeys:0=not-a-key-at-all"));

        Assert.Contains("Keel:Encryption:PreviousMasterKeys:0", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-key-at-all", failure.Message, StringComparison.Ordinal);
    }

    public void Dispose() => KeelTestServer.DeleteDataDir(_dataDir);

    static async Task<string> WrappedByAsync(KeelTestServer server)
    {
        var keys = (await (await server.Client.GetAsync("/api/v1/admin/keys", Ct)).OkJsonAsync()).GetProperty("keys").EnumerateArray()
            .Select(k => k.GetProperty("wrapped_by").GetString()!).Distinct().ToList();
        return Assert.Single(keys);
    }
}
