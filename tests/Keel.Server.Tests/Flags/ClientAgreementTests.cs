// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Client.Flags;
using Keel.Flags;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Flags;

/// <summary>The .NET client's in-process evaluation and the server's OFREP answers agree, for the same definitions and contexts.</summary>
public class ClientAgreementTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    const string File = """
        {
          "metadata": {"flagSetId": "mobile"},
          "$evaluators": {"beta_users": {"in": [{"var": "targetingKey"}, ["u-3", "u-7", "u-11"]]}},
          "flags": {
            "beta": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"$ref": "beta_users"}, "on", null]}},
            "theme": {"state": "ENABLED", "variants": {"dark": "dark", "light": "light", "auto": "auto"}, "defaultVariant": "auto",
                      "targeting": {"if": [{"==": [{"var": "platform"}, "ios"]}, {"fractional": [["dark", 1], ["light", 1]]}, "auto"]}},
            "retries": {"state": "ENABLED", "variants": {"few": 1, "many": 5}, "defaultVariant": "few",
                        "targeting": {"if": [{"sem_ver": [{"var": "version"}, "^", "3.0.0"]}, "many", null]}},
            "config": {"state": "ENABLED", "variants": {"a": {"timeout": 1.5}, "b": {"timeout": 3}}, "defaultVariant": "a",
                       "targeting": {"if": [{"starts_with": [{"var": "region"}, "eu-"]}, "b", "a"]}},
            "off": {"state": "DISABLED", "variants": {"x": true}, "defaultVariant": "x"},
            "no-default": {"state": "ENABLED", "variants": {"x": "y"}, "defaultVariant": null},
            "bad-rule": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x", "targeting": {"if": [true, "missing"]}}
          }
        }
        """;

    [Fact]
    public async Task EveryFlag_ForEveryContext_EvaluatesTheSameInProcessAsOverOfrep()
    {
        var service = Service();
        await (await fixture.Client.PostAsync($"/api/v1/flags/{service}/prod/import", Json(File), Ct)).OkJsonAsync();
        using var ofrep = await fixture.Server.CreateEvaluationClientAsync(service, "prod");
        using var client = new KeelFlagClient(new KeelFlagOptions().Connect(fixture.Server.BaseAddress, TestTokens.Admin).Select(service, "prod"));
        Assert.True(await client.RefreshAsync(Ct));

        var contexts = Enumerable.Range(0, 16).Select(i => new Dictionary<string, object?>
        {
            ["targetingKey"] = $"u-{i}",
            ["platform"] = i % 2 == 0 ? "ios" : "android",
            ["version"] = $"{2 + (i % 3)}.{i}.0",
            ["region"] = i % 4 == 0 ? "eu-west-1" : "us-east-1",
        }).Append([]).ToList();

        foreach (var key in client.Keys.Append("absent"))
        {
            foreach (var context in contexts)
            {
                var local = client.Evaluate(key, context);
                using var response = await ofrep.PostAsync($"/ofrep/v1/evaluate/flags/{key}", Json(new { context }), Ct);
                using var remote = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
                var body = remote.RootElement;
                var label = $"{key} for {JsonSerializer.Serialize(context)}";
                if (local.Reason == FlagReasons.Error)
                {
                    Assert.True(body.GetProperty("errorCode").GetString() == local.ErrorCode, label);
                    continue;
                }

                Assert.True(body.GetProperty("reason").GetString() == local.Reason, label);
                Assert.True((body.TryGetProperty("variant", out var v) ? v.GetString() : null) == local.Variant, label);
                Assert.True(
                    body.TryGetProperty("value", out var value) ? local.Value?.ToJson() == value.GetRawText().Replace(" ", "", StringComparison.Ordinal) : local.Value is null,
                    $"{label}: {body}");
            }
        }
    }

    [Fact]
    public async Task Refresh_FetchesOnlyWhenTheFlagsChanged()
    {
        var service = Service();
        await fixture.Client.PutAsync($"/api/v1/flags/{service}/dev/f", Json("""{"state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "a"}"""), Ct);
        using var client = new KeelFlagClient(new KeelFlagOptions().Connect(fixture.Server.BaseAddress, TestTokens.Admin).Select(service, "dev"));

        var first = await client.RefreshAsync(Ct);
        var unchanged = await client.RefreshAsync(Ct);
        var before = client.Evaluate("f").Value!.Value.Number;
        await fixture.Client.PutAsync($"/api/v1/flags/{service}/dev/f", Json("""{"state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "b"}"""), Ct);
        var changed = await client.RefreshAsync(Ct);

        Assert.Equal((true, false, true), (first, unchanged, changed));
        Assert.Equal((1.0, 2.0), (before, client.Evaluate("f").Value!.Value.Number));
    }
}
