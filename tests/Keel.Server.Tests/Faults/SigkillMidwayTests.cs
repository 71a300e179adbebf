// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Faults;

/// <summary>
/// The server process killed with SIGKILL while an import, a batch-set, a data-key rotation or a master-key rewrap is under
/// way, over SQLite; after a restart each is all or nothing, and what was cut short can be done again.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class SigkillMidwayTests : IDisposable
{
    const int Keys = 1000;

    readonly string _dataDir = KeelTestServer.NewDataDir();
    readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task AnImportAndABatchSet_KilledMidway_AreAllOrNothing()
    {
        var outcomes = new List<string>();
        var cutShort = 0;
        foreach (var delay in new[] { 0, 5, 15, 30, 60, 120 })
        {
            var imported = Service();
            var batched = Service();
            bool importAnswered, batchAnswered;
            await using (var server = await StartAsync())
            {
                var import = Post(server, $"/api/v1/config/{imported}/prod/import", ImportDocument());
                var batch = Post(server, "/api/v1/config/batch-set", BatchSet(batched, encrypt: false));
                await Task.WhenAll(import.Sent, batch.Sent);
                await Task.Delay(delay, Ct);
                server.Kill();
                importAnswered = await import.AnsweredAsync();
                batchAnswered = await batch.AnsweredAsync();
                cutShort += (importAnswered ? 0 : 1) + (batchAnswered ? 0 : 1);
            }

            await using (var server = await StartAsync())
            {
                var importedKeys = await CountAsync(server, imported);
                var batchedKeys = await CountAsync(server, batched);
                outcomes.Add($"{delay} ms: import {importedKeys}, batch-set {batchedKeys}");
                Assert.True(importedKeys is 0 or Keys, $"an import killed midway left {importedKeys} of {Keys} keys ({string.Join("; ", outcomes)})");
                Assert.True(batchedKeys is 0 or Keys, $"a batch-set killed midway left {batchedKeys} of {Keys} keys ({string.Join("; ", outcomes)})");

                // An answered request was acknowledged (InFlight throws on anything but 200), so all of it is there.
                Assert.True(!importAnswered || importedKeys == Keys, $"an acknowledged import left {importedKeys} keys");
                Assert.True(!batchAnswered || batchedKeys == Keys, $"an acknowledged batch-set left {batchedKeys} keys");
            }
        }

        // Kills that all land before the requests reach the store, or after they are answered, would prove nothing.
        Assert.True(cutShort >= 2, $"only {cutShort} requests were cut short by the kill ({string.Join("; ", outcomes)})");
    }

    [Fact]
    public async Task AKeyRotationAndAMasterKeyRewrap_KilledMidway_LeaveEveryValueReadable_AndFinishWhenDoneAgain()
    {
        var service = Service();
        await using (var server = await StartAsync())
        {
            await (await server.Client.PostAsync("/api/v1/config/batch-set", new SentContent(BatchSet(service, encrypt: true)), Ct)).OkJsonAsync();
            await (await server.Client.PostAsync("/api/v1/config/batch-set", new SentContent(BatchSet(service, encrypt: true, round: 2)), Ct)).OkJsonAsync();
        }

        // A rotation re-encrypts 2,000 values and versions in batches of 256 once its new data key is durable, which the server
        // logs; a kill then, not after a fixed delay that a loaded machine may not even reach the store in, leaves both in use.
        var midway = false;
        var tried = new List<string>();
        for (var attempt = 0; attempt < 4 && !midway; attempt++)
        {
            await using (var server = await StartAsync())
            {
                var rotate = Post(server, "/api/v1/admin/keys/rotate", []);
                await server.WaitForOutputAsync("Created data key", TimeSpan.FromSeconds(60));
                server.Kill();
                tried.Add($"answered {await rotate.AnsweredAsync()}");
            }

            await using (var server = await StartAsync())
            {
                await EveryValueReadsBackAsync(server, service, round: 2);
                midway = (await DataKeysAsync(server)).Count > 1;
            }
        }

        Assert.True(midway, $"no kill landed while the rotation ran ({string.Join("; ", tried)})");

        // A new master key written into the key file of a running server, which is asked to rewrap: killed once it has wrapped
        // one of the two data keys again. A start with the new key, the old one named as previous, finishes the rest.
        var online = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var keyFile = Path.Combine(_dataDir, "replaced-master.key");
        await File.WriteAllTextAsync(keyFile, _masterKey, Ct);
        await using (var server = await KeelServerProcess.StartAsync([.. Arguments(), "--Keel:Encryption:KeyFile=" + keyFile]))
        {
            await File.WriteAllTextAsync(keyFile, online, Ct);
            var rewrap = Post(server, "/api/v1/admin/keys/rewrap", []);
            await server.WaitForOutputAsync("wrapped again under master key", TimeSpan.FromSeconds(60));
            server.Kill();
            await rewrap.AnsweredAsync();
        }

        string[] moved = ["--Keel:Encryption:MasterKey=" + online, "--Keel:Encryption:PreviousMasterKeys:0=" + _masterKey];
        await using (var server = await KeelServerProcess.StartAsync([.. Arguments(), .. moved]))
        {
            await EveryValueReadsBackAsync(server, service, round: 2);
            Assert.Equal(2, (await DataKeysAsync(server)).Count);
            Assert.Single((await DataKeysAsync(server)).Select(k => k.WrappedBy).Distinct());
        }

        // Another master key, the one before named as previous: killed at start once it has wrapped one of the two again.
        var next = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string[] rotated = ["--Keel:Encryption:MasterKey=" + next, "--Keel:Encryption:PreviousMasterKeys:0=" + online];
        await using (var starting = KeelServerProcess.Launch([.. Arguments(), .. rotated]))
        {
            await starting.WaitForOutputAsync("wrapped again under master key", TimeSpan.FromSeconds(60));
            starting.Kill();
        }

        await using (var server = await KeelServerProcess.StartAsync([.. Arguments(), .. rotated]))
        {
            await EveryValueReadsBackAsync(server, service, round: 2);
            Assert.Single((await DataKeysAsync(server)).Select(k => k.WrappedBy).Distinct());
        }

        // The new master key alone now opens the store, and a rotation run again to its end retires the old data key.
        await using (var server = await KeelServerProcess.StartAsync([.. Arguments(), "--Keel:Encryption:MasterKey=" + next]))
        {
            var result = await (await server.Client.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rotate", new { })).OkJsonAsync();
            Assert.Equal(0, result.GetProperty("undecryptable").GetInt64());
            Assert.Single(await DataKeysAsync(server));
            await EveryValueReadsBackAsync(server, service, round: 2);
        }
    }

    [Fact]
    public Task SixtyFourWritersUnderGroupCommit_KilledMidway_LoseNoAcknowledgedWrite() => KillUnderSixtyFourWritersAsync(StartAsync);

    /// <summary>
    /// Kills a server under 64 writers, each rewriting its own key, once each has been acknowledged a few times, and checks after
    /// a restart (<paramref name="start"/> again, on the same store) that every acknowledged version is there.
    /// </summary>
    internal static async Task KillUnderSixtyFourWritersAsync(Func<Task<KeelServerProcess>> start)
    {
        var service = Service(nameof(KillUnderSixtyFourWritersAsync));
        var acknowledged = new long[64];
        var inFlight = 0;
        await using (var server = await start())
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, acknowledged.Length).Select(w => Task.Run(async () =>
            {
                for (var i = 1; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        Interlocked.Increment(ref inFlight);
                        using var response = await server.Client.PutAsync(ConfigPath(service, "prod", $"w{w}"), Json(new { config_value = $"{i}" }), CancellationToken.None);
                        acknowledged[w] = (await response.OkJsonAsync(i == 1 ? HttpStatusCode.Created : HttpStatusCode.OK)).GetProperty("version").GetInt64();
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException)
                    {
                        // Cut off by the kill, before or while its answer arrived: not acknowledged.
                        return;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                }
            }, CancellationToken.None)).ToList();

            // Killed once every writer has been acknowledged a few times, with writes in flight, shared commits among them.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (acknowledged.Any(v => v < 3) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, Ct);
            }

            Assert.True(Volatile.Read(ref inFlight) > 0, "no write was in flight when the server was killed");
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        await using (var server = await start())
        {
            for (var w = 0; w < acknowledged.Length; w++)
            {
                // The write in flight at the kill may have committed unacknowledged; every acknowledged one must be there.
                var version = (await (await server.Client.GetAsync(ConfigPath(service, "prod", $"w{w}"), Ct)).OkJsonAsync()).GetProperty("version").GetInt64();
                Assert.InRange(version, acknowledged[w], acknowledged[w] + 1);
            }
        }
    }

    public void Dispose() => KeelTestServer.DeleteDataDir(_dataDir);

    string[] Arguments() => ["--urls", "http://127.0.0.1:0", "--data-dir", _dataDir];

    Task<KeelServerProcess> StartAsync() => KeelServerProcess.StartAsync([.. Arguments(), "--Keel:Encryption:MasterKey=" + _masterKey]);

    static byte[] ImportDocument() =>
        JsonSerializer.SerializeToUtf8Bytes(Enumerable.Range(0, Keys).ToDictionary(i => $"key{i:D4}", i => (object)$"imported value {i}"));

    static byte[] BatchSet(string service, bool encrypt, int round = 1) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        service_name = service,
        environment = "prod",
        configs = Enumerable.Range(0, Keys).Select(i => new { config_key = $"key{i:D4}", config_value = $"value {i} round {round}", encrypt }),
    });

    static InFlight Post(KeelServerProcess server, string path, byte[] body)
    {
        var content = new SentContent(body);
        return new InFlight(server.Client.PostAsync(path, content, CancellationToken.None), content.Sent);
    }

    static async Task<int> CountAsync(KeelServerProcess server, string service)
    {
        using var response = await server.Client.GetAsync($"/api/v1/config/{service}/prod", Ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        return (await response.OkJsonAsync()).GetProperty("configs").GetArrayLength();
    }

    static async Task EveryValueReadsBackAsync(KeelServerProcess server, string service, int round)
    {
        foreach (var keys in Enumerable.Range(0, Keys).Chunk(500))
        {
            var answer = await (await server.Client.SendAsync(HttpMethod.Post, "/api/v1/config/batch", new
            {
                service_name = service,
                environment = "prod",
                config_keys = keys.Select(i => $"key{i:D4}"),
            })).OkJsonAsync();
            var values = answer.GetProperty("configs").EnumerateArray()
                .ToDictionary(c => c.GetProperty("config_key").GetString()!, c => c.GetProperty("config_value").GetString());
            Assert.All(keys, i => Assert.Equal($"value {i} round {round}", values[$"key{i:D4}"]));
        }

        using var history = await server.Client.GetAsync(ConfigPath(service, "prod", "key0000") + "/history", Ct);
        Assert.Equal(
            [$"value 0 round {round}", "value 0 round 1"],
            (await history.OkJsonAsync()).GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("config_value").GetString()));
    }

    static async Task<List<(int Id, string WrappedBy)>> DataKeysAsync(KeelServerProcess server)
    {
        var keys = await (await server.Client.GetAsync("/api/v1/admin/keys", Ct)).OkJsonAsync();
        return [.. keys.GetProperty("keys").EnumerateArray().Select(k => (k.GetProperty("id").GetInt32(), k.GetProperty("wrapped_by").GetString()!))];
    }

    /// <summary>A request under way: <see cref="Sent"/> completes once its whole body is on the wire.</summary>
    sealed record InFlight(Task<HttpResponseMessage> Response, Task Sent)
    {
        /// <summary>Whether the server answered before it was killed.</summary>
        public async Task<bool> AnsweredAsync()
        {
            try
            {
                using var response = await Response;
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }
    }

    /// <summary>A JSON body that signals when the last of it has been written.</summary>
    sealed class SentContent : HttpContent
    {
        readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly byte[] _body;

        public SentContent(byte[] body)
        {
            _body = body;
            if (body.Length > 0)
            {
                Headers.ContentType = new("application/json") { CharSet = "utf-8" };
            }
        }

        public Task Sent => _sent.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_body);
            await stream.FlushAsync();
            _sent.TrySetResult();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return true;
        }
    }
}
