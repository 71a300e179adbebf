// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Config;

/// <summary>Encrypted values over the API: masked without secrets:read, revealed with it, never leaked or served when tampered.</summary>
public sealed class SecretValuesTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ACachedSecret_IsAnsweredRevealedOrMasked_PerToken_WhicheverReadItFirst()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "api.key");
        await fixture.Client.PutAsync(path, new { config_value = "s3cret", encrypt = true });
        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/*"]);
        using var secrets = await fixture.Server.CreateTokenClientAsync(["read", "secrets:read"], [$"{service}/*"]);

        // The first read loads the cache with the revealed read; every later one is a hit, in either order.
        foreach (var (client, shown) in new[] { (secrets, "s3cret"), (reader, null), (secrets, "s3cret"), (reader, null) })
        {
            using var response = await client.GetAsync(path, Ct);
            var body = await response.OkJsonAsync();
            Assert.Equal(shown, body.GetProperty("config_value").GetString());
            Assert.DoesNotContain(shown is null ? "s3cret" : "\u0000", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        }
    }

    [Fact]
    public async Task EncryptedValues_AreMaskedWithoutSecretsRead_EverywhereTheyAreRead()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "db.password");
        await fixture.Client.PutAsync(path, new { config_value = "hunter2" });
        var put = await (await fixture.Client.PutAsync(path, new { config_value = "hunter3", encrypt = true })).OkJsonAsync();
        Assert.True(put.GetProperty("is_encrypted").GetBoolean());
        Assert.Equal("hunter3", put.GetProperty("config_value").GetString());
        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/*"]);
        using var secrets = await fixture.Server.CreateTokenClientAsync(["read", "secrets:read"], [$"{service}/*"]);
        using var writer = await fixture.Server.CreateTokenClientAsync(["write"], [$"{service}/*"]);

        var masked = await (await reader.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, masked.GetProperty("config_value").ValueKind);
        Assert.True(masked.GetProperty("is_encrypted").GetBoolean());
        var list = await (await reader.GetAsync($"/api/v1/config/{service}/prod", Ct)).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, list.GetProperty("configs")[0].GetProperty("config_value").ValueKind);
        var batch = await (await reader.SendAsync(HttpMethod.Post, "/api/v1/config/batch", new { service_name = service, environment = "prod", config_keys = new[] { "db.password" } })).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("configs")[0].GetProperty("config_value").ValueKind);
        var history = await (await reader.GetAsync(path + "/history", Ct)).OkJsonAsync();
        Assert.All(history.GetProperty("versions").EnumerateArray(), v =>
        {
            Assert.True(v.GetProperty("is_encrypted").GetBoolean());
            Assert.Equal(JsonValueKind.Null, v.GetProperty("config_value").ValueKind);
        });
        var written = await (await writer.PutAsync(path, new { config_value = "hunter4" })).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, written.GetProperty("config_value").ValueKind);
        Assert.True(written.GetProperty("is_encrypted").GetBoolean());

        Assert.Equal("hunter4", (await (await secrets.GetAsync(path, Ct)).OkJsonAsync()).GetProperty("config_value").GetString());
        var revealedHistory = await (await secrets.GetAsync(path + "/history", Ct)).OkJsonAsync();
        Assert.Equal(["hunter4", "hunter3", "hunter2"], revealedHistory.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("config_value").GetString()));
    }

    [Fact]
    public async Task Rollback_OfAnEncryptedVersion_AnswersATokenWithoutSecretsReadTheSameWhateverTheSchemaSays()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "db.password");
        await fixture.Client.PutAsync(path, new { config_value = "SuperSecret-0123456789", encrypt = true });
        await fixture.Client.PutAsync(path, new { config_value = "current", encrypt = true });
        using var writer = await fixture.Server.CreateTokenClientAsync(["write"], [$"{service}/*"]);
        var schemaPath = $"/api/v1/schemas/{service}/db.password";

        // A schema that matches the secret and one that does not: the answers must not tell them apart.
        List<(int Status, string Body)> staleAnswers = [];
        foreach (var pattern in new[] { "^Super", "^Nope" })
        {
            (await writer.SendAsync(HttpMethod.Put, schemaPath, new { type = "string", pattern })).EnsureSuccessStatusCode();
            using var stale = await writer.SendAsync(
                HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-Match", "\"999\""));
            staleAnswers.Add(((int)stale.StatusCode, (await stale.ProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed")).GetProperty("detail").GetString()!));
        }

        Assert.Equal(staleAnswers[0], staleAnswers[1]);

        // With the right version, the rollback of a secret the caller cannot read is not checked against the caller's schema.
        using var rolledBack = await writer.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-Match", "\"2\""));
        await rolledBack.OkJsonAsync();
    }

    [Fact]
    public async Task Rollback_OfAnEncryptedJsonVersion_NeverNamesItsPropertiesToATokenWithoutSecretsRead()
    {
        var service = Service();
        var path = ConfigPath(service, "prod", "credentials");
        await fixture.Client.PutAsync(path, new { config_value = """{"hidden_user": "u", "hidden_password": "p"}""", value_type = "json", encrypt = true });
        await fixture.Client.PutAsync(path, new { config_value = "{}", value_type = "json", encrypt = true });
        using var writer = await fixture.Server.CreateTokenClientAsync(["write"], [$"{service}/*"]);
        using var secrets = await fixture.Server.CreateTokenClientAsync(["write", "secrets:read"], [$"{service}/*"]);
        (await writer.SendAsync(HttpMethod.Put, $"/api/v1/schemas/{service}/credentials", new { type = "object", additionalProperties = false }))
            .EnsureSuccessStatusCode();

        using var stale = await writer.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-Match", "\"999\""));
        var staleText = await stale.Content.ReadAsStringAsync(Ct);
        using var revealing = await secrets.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-Match", "\"2\""));
        var violation = await revealing.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        using var blind = await writer.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-Match", "\"2\""));
        var blindText = await blind.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.DoesNotContain("hidden_", staleText, StringComparison.Ordinal);

        // A caller who may read the secret is told why it fails its schema; one who may not is not asked to know.
        Assert.Contains(violation.ErrorPaths(), p => p.Contains("hidden_user", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, blind.StatusCode);
        Assert.DoesNotContain("hidden_", blindText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_WithEncryptFalse_OnAnEncryptedKey_Answers409AndChangesNothing()
    {
        var path = ConfigPath(Service(), "prod", "api.key");
        await fixture.Client.PutAsync(path, new { config_value = "k1", encrypt = true });

        await (await fixture.Client.PutAsync(path, new { config_value = "k2", encrypt = false })).ProblemAsync(HttpStatusCode.Conflict, "encryption_required");

        var body = await (await fixture.Client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal("k1", body.GetProperty("config_value").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task TamperedValue_Answers500DecryptionFailed_AndIsNeverReturned()
    {
        await using var server = await KeelTestServer.StartAsync();
        var path = ConfigPath(Service(), "prod", "token");
        await server.Client.PutAsync(path, new { config_value = "genuine", encrypt = true });
        await server.StopAsync();
        var connection = new SqliteConnection($"Data Source={Path.Combine(server.DataDir, "keel.db")};Pooling=False");
        await using (connection)
        {
            await connection.OpenAsync(Ct);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM configs WHERE config_key = 'token';";
            var bytes = Convert.FromBase64String((string)(await command.ExecuteScalarAsync(Ct))!);
            bytes[^3] ^= 0x20;
            command.CommandText = "UPDATE configs SET value = $v WHERE config_key = 'token';";
            command.Parameters.AddWithValue("$v", Convert.ToBase64String(bytes));
            await command.ExecuteNonQueryAsync(Ct);
        }

        await using var restarted = await KeelTestServer.StartAsync(server.DataDir);
        using var response = await restarted.Client.GetAsync(path, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("genuine", text, StringComparison.Ordinal);
        await response.ProblemAsync(HttpStatusCode.InternalServerError, "decryption_failed");
        var list = await (await restarted.Client.GetAsync(path[..path.LastIndexOf('/')], Ct)).OkJsonAsync();
        var item = list.GetProperty("configs")[0];
        Assert.Equal(JsonValueKind.Null, item.GetProperty("config_value").ValueKind);
        Assert.True(item.GetProperty("decryption_failed").GetBoolean());
    }
}
