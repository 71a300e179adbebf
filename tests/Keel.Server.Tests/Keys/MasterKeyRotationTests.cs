// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Keys;

/// <summary>
/// A new master key: with the old one named as previous, the data keys move under it at start; written into the key file, at a
/// rewrap while the server serves.
/// </summary>
public sealed class MasterKeyRotationTests : IDisposable
{
    readonly string _dataDir = KeelTestServer.NewDataDir();
    readonly string _keyDir = KeelTestServer.NewDataDir();
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
    public async Task ANewKeyFile_ReadAgainOnline_TakesOverEveryDataKey_WhileReadsAndWritesGoOn()
    {
        var keyFile = Path.Combine(_keyDir, "master.key");
        Directory.CreateDirectory(_keyDir);
        await File.WriteAllTextAsync(keyFile, _old, Ct);
        var service = Service();
        var secret = ConfigPath(service, "prod", "password");
        string oldId;
        await using (var server = await KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:KeyFile={keyFile}"))
        {
            await server.Client.PutAsync(secret, new { config_value = "hunter2", encrypt = true });
            oldId = await WrappedByAsync(server);

            // Reads of the secret and encrypted writes go on while the master key changes under them.
            using var stop = new CancellationTokenSource();
            var failures = new List<string>();
            var load = Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    using var read = await server.Client.GetAsync(secret, Ct);
                    using var write = await server.Client.PutAsync(
                        ConfigPath(service, "prod", $"written-{n % 16}"), Json(new { config_value = $"w{n}", encrypt = true }), Ct);
                    var value = read.IsSuccessStatusCode ? (await read.OkJsonAsync()).GetProperty("config_value").GetString() : null;
                    if (value != "hunter2" || !write.IsSuccessStatusCode)
                    {
                        lock (failures)
                        {
                            failures.Add($"read {(int)read.StatusCode} {value}, write {(int)write.StatusCode}");
                        }
                    }

                    n++;
                }

                return n;
            }, Ct);

            await File.WriteAllTextAsync(keyFile, _new, Ct);
            var rewrap = await (await server.Client.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rewrap", new { })).OkJsonAsync();
            await Task.Delay(200, Ct);
            await stop.CancelAsync();
            Assert.True(await load > 0);
            Assert.Empty(failures);

            var newId = await WrappedByAsync(server);
            Assert.NotEqual(oldId, newId);
            Assert.Equal(newId, rewrap.GetProperty("master_key_id").GetString());
            Assert.Equal(oldId, rewrap.GetProperty("replaced_master_key_id").GetString());
            Assert.NotEmpty(rewrap.GetProperty("rewrapped_key_ids").EnumerateArray());

            // Asked again, nothing is left to do.
            var again = await (await server.Client.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rewrap", new { })).OkJsonAsync();
            Assert.Equal(JsonValueKind.Null, again.GetProperty("replaced_master_key_id").ValueKind);
            Assert.Empty(again.GetProperty("rewrapped_key_ids").EnumerateArray());

            // A key file that holds no key is refused and changes nothing, and the server goes on with the key it has.
            await File.WriteAllTextAsync(keyFile, "not a key", Ct);
            using (var refused = await server.Client.PostAsync("/api/v1/admin/keys/rewrap", Json(new { }), Ct))
            {
                var problem = await refused.ProblemAsync(HttpStatusCode.Conflict, "master_key_unreadable");
                Assert.DoesNotContain("not a key", problem.GetRawText(), StringComparison.Ordinal);
            }

            Assert.Equal(newId, await WrappedByAsync(server));
            await server.Client.PutAsync(secret, new { config_value = "hunter3", encrypt = true });
            var audit = await (await server.Client.GetAsync("/api/v1/audit?action=key.rewrap", Ct)).OkJsonAsync();
            Assert.Equal(2, audit.GetProperty("records").GetArrayLength());
        }

        // The new key alone opens the store; the old one no longer does.
        await File.WriteAllTextAsync(keyFile, _new, Ct);
        await using (var server = await KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:KeyFile={keyFile}"))
        {
            Assert.Equal("hunter3", (await (await server.Client.GetAsync(secret, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        }

        await File.WriteAllTextAsync(keyFile, _old, Ct);
        await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:KeyFile={keyFile}"));
    }

    [Fact]
    public async Task AMasterKeyFromTheEnvironment_IsNotReadAgain_AndARewrapChangesNothing()
    {
        await using var server = await KeelTestServer.StartAsync(_dataDir, $"Keel:Encryption:MasterKey={_old}");
        var before = await WrappedByAsync(server);

        var rewrap = await (await server.Client.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rewrap", new { })).OkJsonAsync();

        Assert.Equal(before, rewrap.GetProperty("master_key_id").GetString());
        Assert.Equal(JsonValueKind.Null, rewrap.GetProperty("replaced_master_key_id").ValueKind);
        Assert.Equal(before, await WrappedByAsync(server));
    }

    [Fact]
    public async Task APreviousMasterKeyThatIsNotAKey_StopsTheStart_NamingItsPositionNotItsValue()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(
            _dataDir, $"Keel:Encryption:MasterKey={_new}", "Keel:Encryption:PreviousMasterKeys:0=not-a-key-at-all"));

        Assert.Contains("Keel:Encryption:PreviousMasterKeys:0", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-key-at-all", failure.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        KeelTestServer.DeleteDataDir(_dataDir);
        KeelTestServer.DeleteDataDir(_keyDir);
    }

    static async Task<string> WrappedByAsync(KeelTestServer server)
    {
        var keys = (await (await server.Client.GetAsync("/api/v1/admin/keys", Ct)).OkJsonAsync()).GetProperty("keys").EnumerateArray()
            .Select(k => k.GetProperty("wrapped_by").GetString()!).Distinct().ToList();
        return Assert.Single(keys);
    }
}
