// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Config;

public class ConfigWritePipelineTests
{
    const string Definition = """{"state": "ENABLED", "variants": {"on": "s3cr3t-variant-4711", "off": "plain"}, "defaultVariant": "off"}""";

    [Fact]
    public async Task FlagWrites_AreLogged_InTheFlagApisTerms_WithVersionsAndRevisions_NeverDefinitions()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await KeelTestServer.StartAsync(null, builder => builder.Logging.AddProvider(logs), "Logging:LogLevel:Default=Information");
        var client = server.Client;
        var service = Service();
        var path = $"/api/v1/flags/{service}/prod/new-checkout";

        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync(path, Json(Definition), Ct)).StatusCode);
        await (await client.PostAsync(path + "/rollback", Json(new { target_version = 1 }), Ct)).OkJsonAsync();
        await (await client.DeleteAsync(path, Ct)).OkJsonAsync();
        await (await client.PostAsync($"/api/v1/flags/{service}/prod/import", Json("{\"flags\": {\"imported\": " + Definition + "}}"), Ct)).OkJsonAsync();

        var lines = logs.Lines.Where(l => l.Contains(service, StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.Contains($"Flag {service}/prod/new-checkout: Create to version 1 at revision", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Flag {service}/prod/new-checkout: Rollback to version 2 at revision", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Flag {service}/prod/new-checkout: Delete to version 3 at revision", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Flags {service}/prod: imported 1 changes at revision", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("s3cr3t-variant-4711", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("#flags", StringComparison.Ordinal));
    }
}
