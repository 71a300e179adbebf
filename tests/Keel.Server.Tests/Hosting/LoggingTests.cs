// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Hosting;

public class LoggingTests
{
    const string Sentinel = "s3cr3t-sentinel-4711";

    [Fact]
    public async Task ConfigurationValues_NeverReachTheLogs_AtAnyLevel()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await KeelTestServer.StartAsync(
            null,
            builder => builder.Logging.AddProvider(logs),
            "Logging:LogLevel:Default=Trace",
            "Keel:Limits:MaxValueBytes=4096");
        var client = server.Client;
        var path = ConfigPath(Service(), "prod", "db.password");

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync(path, new { config_value = Sentinel, change_description = "rotate" })).StatusCode);
        await client.PutAsync(path, new { config_value = new { password = Sentinel }, value_type = "json" });
        await client.PutAsync(path, Json("{\"config_value\": \"{\\\"p\\\": " + Sentinel + "}\", \"value_type\": \"json\"}"), Ct);
        await client.PutAsync(path, new { config_value = Sentinel, value_type = "number" });
        await client.PutAsync(path, new { config_value = "a: [" + Sentinel, value_type = "yaml" });
        await client.PutAsync(path, new { config_value = Sentinel + new string('x', 5000) });
        await client.PutAsync(path, Json("{\"config_value\": \"" + Sentinel + "\", \"bogus\": \"" + Sentinel + "\"}"), Ct);
        await client.PutAsync(path, Json("{\"config_value\": " + Sentinel + "}"), Ct);
        await client.GetAsync(path, Ct);
        await client.GetAsync(path + "/history", Ct);
        await client.SendAsync(HttpMethod.Post, "/api/v1/config/batch", new { service_name = path.Split('/')[4], environment = "prod", config_keys = new[] { "db.password" } });
        await client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 });
        await client.DeleteAsync(path, Ct);
        await client.PutAsync(path, new { config_value = Sentinel, encrypt = true });
        await client.GetAsync(path, Ct);
        await client.SendAsync(HttpMethod.Post, "/api/v1/admin/keys/rotate");
        using var created = await client.PostAsync("/api/v1/tokens", Json(new { name = "logged", permissions = new[] { "read" }, scopes = new[] { "*/*" } }), Ct);
        var secret = (await created.OkJsonAsync(HttpStatusCode.Created)).GetProperty("token").GetString()!;
        using var withSecret = server.CreateClient(secret);
        await withSecret.GetAsync(path, Ct);
        using var wrong = server.CreateClient(secret + "x");
        await wrong.GetAsync(path, Ct);
        var masterKey = (await File.ReadAllTextAsync(Path.Combine(server.DataDir, "master.key"), Ct)).Trim();

        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, line => line.Contains(secret, StringComparison.Ordinal) || line.Contains(secret[5..20], StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains(TestTokens.Admin, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains(masterKey, StringComparison.Ordinal));
        Assert.Contains(logs.Lines, line => line.Contains("db.password", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains(Sentinel, StringComparison.Ordinal));
    }
}
