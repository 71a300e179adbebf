// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Keys;

public sealed class KeyEndpointsTests
{
    [Fact]
    public async Task Rotate_KeepsEveryValueAndVersionReadable_WhileReadsGoOn()
    {
        await using var server = await KeelTestServer.StartAsync();
        var service = Service();
        var paths = Enumerable.Range(0, 400).Select(i => ConfigPath(service, "prod", $"secret{i}")).ToList();
        foreach (var path in paths)
        {
            await server.Client.PutAsync(path, new { config_value = "one", encrypt = true });
            await server.Client.PutAsync(path, new { config_value = "two" });
        }

        var before = await (await server.Client.GetAsync("/api/v1/admin/keys", Ct)).OkJsonAsync();
        using var readers = new CancellationTokenSource();
        var failures = 0;
        var reads = 0;
        var reading = Task.Run(async () =>
        {
            while (!readers.IsCancellationRequested)
            {
                using var response = await server.Client.GetAsync(paths[Random.Shared.Next(paths.Count)], CancellationToken.None);
                Interlocked.Increment(ref reads);
                if (response.StatusCode != HttpStatusCode.OK || (await response.OkJsonAsync()).GetProperty("config_value").GetString() != "two")
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, Ct);

        var result = await (await server.Client.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rotate")).OkJsonAsync();
        await readers.CancelAsync();
        await reading;

        Assert.Equal(0, failures);
        Assert.True(reads > 0);
        Assert.True(result.GetProperty("reencrypted_values").GetInt64() >= 400);
        Assert.True(result.GetProperty("reencrypted_versions").GetInt64() >= 800);
        var oldKey = before.GetProperty("active_key_id").GetInt32();
        Assert.Contains(oldKey, result.GetProperty("retired_key_ids").EnumerateArray().Select(k => k.GetInt32()));
        var after = await (await server.Client.GetAsync("/api/v1/admin/keys", Ct)).OkJsonAsync();
        Assert.Equal(result.GetProperty("active_key_id").GetInt32(), after.GetProperty("active_key_id").GetInt32());
        Assert.Equal(1, after.GetProperty("keys").GetArrayLength());

        // After a restart, nothing the old key encrypted is left: every version decrypts with the new one.
        await server.StopAsync();
        await using var restarted = await KeelTestServer.StartAsync(server.DataDir);
        foreach (var path in paths)
        {
            var history = await (await restarted.Client.GetAsync(path + "/history", Ct)).OkJsonAsync();
            Assert.Equal(["two", "one"], history.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("config_value").GetString()));
        }
    }
}
