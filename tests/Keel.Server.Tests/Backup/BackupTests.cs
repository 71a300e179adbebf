// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Security.Cryptography;
using Keel.Server.Backup;
using Keel.Server.Tests.Infrastructure;
using Keel.Server.Tests.Webhooks;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Backup;

/// <summary>An online backup taken while writes go on, restored into an empty data folder, serves everything it held.</summary>
public sealed class BackupTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("keel-backup-tests").FullName;
    readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task ABackupTakenDuringWrites_RestoresHistoryTokensFlagsSchemasWebhooksAndSecrets()
    {
        var service = Service();
        var backupFile = Path.Combine(_folder, "keel-backup.db");
        string tokenSecret;
        await using (var source = await KeelTestServer.StartAsync(null, [.. WebhookApi.FastSettings(), $"Keel:Encryption:MasterKey={_masterKey}"]))
        {
            var client = source.Client;
            var path = ConfigPath(service, "prod", "db.url");
            foreach (var value in new[] { "v1", "v2", "v3" })
            {
                await client.PutAsync(path, new { config_value = value });
            }

            await client.PutAsync(ConfigPath(service, "prod", "password"), new { config_value = "hunter2", encrypt = true });
            await (await client.PutAsync($"/api/v1/schemas/{service}/port", Json("""{"type": "integer"}"""), Ct)).OkJsonAsync(HttpStatusCode.Created);
            await (await client.PutAsync(
                $"/api/v1/flags/{service}/prod/new-checkout",
                Json("""{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}"""),
                Ct)).OkJsonAsync(HttpStatusCode.Created);
            await client.SubscribeAsync(service, "http://127.0.0.1:9/hook", "db.url");
            var token = await (await client.PostAsync(
                "/api/v1/tokens", Json(new { name = "reader", permissions = new[] { "read", "secrets:read" }, scopes = new[] { $"{service}/prod" } }), Ct))
                .OkJsonAsync(HttpStatusCode.Created);
            tokenSecret = token.GetProperty("token").GetString()!;
            await client.PutValueAsync(service, "prod", "counter", "0");

            // Writes go on while the backup is taken; the copy is one consistent snapshot among them.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var writes = Task.Run(
                async () =>
                {
                    for (var i = 1; !stop.IsCancellationRequested; i++)
                    {
                        await client.PutValueAsync(service, "prod", "counter", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                },
                Ct);
            using var backup = await client.PostAsync("/api/v1/admin/backup", null, Ct);
            await stop.CancelAsync();
            await writes;

            Assert.Equal(HttpStatusCode.OK, backup.StatusCode);
            Assert.Equal(BackupEndpoints.MediaType, backup.Content.Headers.ContentType?.MediaType);
            await File.WriteAllBytesAsync(backupFile, await backup.Content.ReadAsByteArrayAsync(Ct), Ct);
            Assert.Empty(Directory.GetFiles(source.DataDir, "backup-*"));
        }

        Assert.True((await File.ReadAllBytesAsync(backupFile, Ct)).AsSpan().IndexOf("hunter2"u8) < 0, "the backup holds a secret in plaintext");
        var restored = Path.Combine(_folder, "restored");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await BackupCommands.TryRunAsync(["restore", "--input", backupFile, "--data-dir", restored], output, error, Ct));
        Assert.Contains("Restored", output.ToString(), StringComparison.Ordinal);

        await using var target = await KeelTestServer.StartAsync(restored, [.. WebhookApi.FastSettings(), $"Keel:Encryption:MasterKey={_masterKey}"]);
        using var reader = target.CreateClient(tokenSecret);
        var history = await (await reader.GetAsync(ConfigPath(service, "prod", "db.url") + "/history", Ct)).OkJsonAsync();
        Assert.Equal(["v3", "v2", "v1"], history.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("config_value").GetString()));
        var secret = await (await reader.GetAsync(ConfigPath(service, "prod", "password"), Ct)).OkJsonAsync();
        Assert.Equal("hunter2", secret.GetProperty("config_value").GetString());
        await (await target.Client.PutAsync(ConfigPath(service, "prod", "port"), new { config_value = "\"eighty\"", value_type = "json" }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        var flag = await (await target.Client.GetAsync($"/api/v1/flags/{service}/prod/new-checkout", Ct)).OkJsonAsync();
        Assert.Equal("on", flag.GetProperty("definition").GetProperty("defaultVariant").GetString());
        var subscriptions = await (await target.Client.GetAsync(WebhookApi.ListPath + $"?service_name={service}", Ct)).OkJsonAsync();
        Assert.Single(subscriptions.GetProperty("subscriptions").EnumerateArray());
        // Value i is version i + 1: a copy torn between writes would show a value without its version, or the other way round.
        var counter = await (await reader.GetAsync(ConfigPath(service, "prod", "counter"), Ct)).OkJsonAsync();
        Assert.Equal(long.Parse(counter.GetProperty("config_value").GetString()!, System.Globalization.CultureInfo.InvariantCulture) + 1, counter.GetProperty("version").GetInt64());
        var counterHistory = await (await reader.GetAsync(ConfigPath(service, "prod", "counter") + "/history?limit=1000", Ct)).OkJsonAsync();
        Assert.Equal(counter.GetProperty("version").GetInt64(), counterHistory.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task Restore_RefusesAFolderThatHoldsADatabase_AndAFileThatIsNotOne()
    {
        var occupied = Path.Combine(_folder, "occupied");
        await using (await KeelTestServer.StartAsync(occupied, $"Keel:Encryption:MasterKey={_masterKey}"))
        {
        }

        var garbage = Path.Combine(_folder, "garbage.db");
        await File.WriteAllTextAsync(garbage, "not a database", Ct);
        var backup = Path.Combine(_folder, "backup.db");
        Assert.Equal(0, await BackupCommands.TryRunAsync(["backup", "--output", backup, "--data-dir", occupied], TextWriter.Null, TextWriter.Null, Ct));
        var before = await File.ReadAllBytesAsync(Path.Combine(occupied, "keel.db"), Ct);

        var intoOccupied = new StringWriter();
        var fromGarbage = new StringWriter();
        Assert.Equal(1, await BackupCommands.TryRunAsync(["restore", "--input", backup, "--data-dir", occupied], TextWriter.Null, intoOccupied, Ct));
        Assert.Equal(1, await BackupCommands.TryRunAsync(["restore", "--input", garbage, "--data-dir", Path.Combine(_folder, "empty")], TextWriter.Null, fromGarbage, Ct));
        Assert.Equal(2, await BackupCommands.TryRunAsync(["restore", "--data-dir", occupied], TextWriter.Null, TextWriter.Null, Ct));

        Assert.Contains("already exists", intoOccupied.ToString(), StringComparison.Ordinal);
        Assert.Contains("not a Keel database", fromGarbage.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(occupied, "keel.db"), Ct));
        Assert.False(File.Exists(Path.Combine(_folder, "empty", "keel.db")));
    }

    [Fact]
    public async Task Backup_IsAdminOnly()
    {
        await using var server = await KeelTestServer.StartAsync();
        using var reader = await server.CreateTokenClientAsync(["read", "secrets:read", "write"], ["*/*"]);

        await (await reader.PostAsync("/api/v1/admin/backup", null, Ct)).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
