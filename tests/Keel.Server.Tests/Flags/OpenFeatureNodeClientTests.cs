// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Flags;

/// <summary>
/// OpenFeature's own Node.js server SDK with its OFREP provider (<c>OpenFeature/package.json</c>, installed with npm on first
/// use) against a running Keel: every result must be the one Keel's in-process evaluator gives for the same definition and
/// context. Without Node.js the tests are skipped, except under CI, where they fail.
/// </summary>
public class OpenFeatureNodeClientTests(OpenFeatureNodeClientTests.NodeFixture node) : IClassFixture<OpenFeatureNodeClientTests.NodeFixture>
{
    const string File = """
        {
          "metadata": {"flagSetId": "storefront"},
          "$evaluators": {"is_staff": {"ends_with": [{"var": "email"}, "@keel.example"]}},
          "flags": {
            "dark-mode": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
                          "targeting": {"if": [{"$ref": "is_staff"}, "on", null]}},
            "greeting": {"state": "ENABLED", "variants": {"formal": "Good day", "casual": "Hi"}, "defaultVariant": "formal",
                         "targeting": {"if": [{"in": [{"var": "country"}, ["US", "AU"]]}, "casual", "formal"]}},
            "page-size": {"state": "ENABLED", "variants": {"small": 10, "large": 50.5}, "defaultVariant": "small",
                          "targeting": {"if": [{"sem_ver": [{"var": "app_version"}, ">=", "2.0.0"]}, "large", null]}},
            "limits": {"state": "ENABLED", "variants": {"basic": {"rps": 10, "burst": true}, "pro": {"rps": 100, "burst": false}},
                       "defaultVariant": "basic", "metadata": {"owner": "platform"}},
            "new-checkout": {"state": "ENABLED", "variants": {"new": "v2", "old": "v1"}, "defaultVariant": "old",
                             "targeting": {"fractional": [["new", 30], ["old", 70]]}},
            "retired": {"state": "DISABLED", "variants": {"on": true}, "defaultVariant": "on"},
            "code-default": {"state": "ENABLED", "variants": {"x": "unused"}, "defaultVariant": null}
          }
        }
        """;

    static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task EveryFlagType_MatchesAndMisses_AsKeelEvaluatesInProcess()
    {
        var (client, flags) = await SetUpAsync();
        Case[] cases =
        [
            new("boolean", "dark-mode", false, new { targetingKey = "u1", email = "ann@keel.example" }),
            new("boolean", "dark-mode", true, new { targetingKey = "u2", email = "bob@example.com" }),
            new("string", "greeting", "?", new { targetingKey = "u3", country = "US" }),
            new("string", "greeting", "?", new { targetingKey = "u4", country = "NL" }),
            new("number", "page-size", 0, new { targetingKey = "u5", app_version = "2.4.1" }),
            new("number", "page-size", 0, new { targetingKey = "u6", app_version = "1.9.0" }),
            new("object", "limits", new { }, new { targetingKey = "u7" }),
        ];

        var results = await node.EvaluateAsync(client, cases);

        for (var i = 0; i < cases.Length; i++)
        {
            AssertSameAsInProcess(flags, cases[i], results[i]);
        }

        Assert.Equal("TARGETING_MATCH", results[0].GetProperty("reason").GetString());
        Assert.Equal("DEFAULT", results[1].GetProperty("reason").GetString());
        Assert.Equal(50.5, results[4].GetProperty("value").GetDouble());
        Assert.Equal("platform", results[6].GetProperty("metadata").GetProperty("owner").GetString());
    }

    [Fact]
    public async Task AFractionalSplit_PutsEachUserWhereKeelPutsThem()
    {
        var (client, flags) = await SetUpAsync();
        var cases = Enumerable.Range(0, 60).Select(i => new Case("string", "new-checkout", "none", new { targetingKey = $"user-{i}" })).ToArray();

        var results = await node.EvaluateAsync(client, cases);

        for (var i = 0; i < cases.Length; i++)
        {
            AssertSameAsInProcess(flags, cases[i], results[i]);
        }

        var newCount = results.Count(r => r.GetProperty("value").GetString() == "v2");
        Assert.InRange(newCount, 6, 36);
    }

    [Fact]
    public async Task DisabledMissingAndMistypedFlags_GiveTheCallersDefault()
    {
        var (client, _) = await SetUpAsync();
        Case[] cases =
        [
            new("boolean", "retired", false, new { targetingKey = "u1" }),
            new("string", "code-default", "mine", new { targetingKey = "u1" }),
            new("boolean", "no-such-flag", true, new { targetingKey = "u1" }),
            new("number", "greeting", 7, new { targetingKey = "u1" }),
            new("boolean", "limits", true, new { targetingKey = "u1" }),
        ];

        var results = await node.EvaluateAsync(client, cases);

        Assert.False(results[0].GetProperty("value").GetBoolean());
        Assert.Equal("mine", results[1].GetProperty("value").GetString());
        Assert.True(results[2].GetProperty("value").GetBoolean());
        Assert.Equal("FLAG_NOT_FOUND", results[2].GetProperty("errorCode").GetString());
        Assert.Equal((7, "TYPE_MISMATCH"), (results[3].GetProperty("value").GetInt32(), results[3].GetProperty("errorCode").GetString()));
        Assert.Equal("TYPE_MISMATCH", results[4].GetProperty("errorCode").GetString());

        // Keel answers a disabled flag and one without a default variant with 200 and no value (see OfrepEndpointsTests);
        // version 0.1.3 of the provider, the one npm offers, reports such an answer as a GENERAL error around the default.
        Assert.All(results[..2], r => Assert.Equal(("ERROR", "GENERAL"), (r.GetProperty("reason").GetString(), r.GetProperty("errorCode").GetString())));
    }

    async Task<(string Token, Dictionary<string, FlagDefinition> Flags)> SetUpAsync()
    {
        var admin = node.Client;
        var service = Service("openfeature");
        await (await admin.PostAsync($"/api/v1/flags/{service}/prod/import", Json(File), Ct)).OkJsonAsync();
        var token = await node.Server.CreateEvaluationTokenAsync(service, "prod");
        using var file = JsonDocument.Parse(File);
        return (token, FlagDefinitions.ParseFile(file.RootElement).ToDictionary(f => f.Key));
    }

    static void AssertSameAsInProcess(Dictionary<string, FlagDefinition> flags, Case c, JsonElement actual)
    {
        using var context = JsonDocument.Parse(JsonSerializer.Serialize(c.Context));
        var expected = FlagEvaluator.Evaluate(flags[c.Key], LogicObject.FromJson(context.RootElement), Now);
        var label = $"{c.Key} for {JsonSerializer.Serialize(c.Context)}";
        Assert.True(expected.Value is { } value && value.Equals(LogicValue.FromJson(actual.GetProperty("value"))), $"{label}: value {actual.GetProperty("value")}, in-process {expected.Value?.ToJson()}");
        Assert.Equal((expected.Variant, expected.Reason), (actual.GetProperty("variant").GetString(), actual.GetProperty("reason").GetString()));
    }

    public sealed record Case(string Type, string Key, object Default, object Context);

    /// <summary>A Keel server, and OpenFeature's Node.js packages installed once beside the test assembly.</summary>
    public sealed class NodeFixture : ServerFixture
    {
        static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "OpenFeature");

        string? _skipReason;

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            try
            {
                var (code, _, error) = await Command.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Folder, TimeSpan.FromMinutes(5), Ct);
                _skipReason = code == 0 ? null : "npm ci failed: " + error;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                _skipReason = "Node.js and npm are not installed: " + e.Message;
            }
        }

        public async Task<JsonElement[]> EvaluateAsync(string token, IEnumerable<Case> cases)
        {
            if (_skipReason is { } reason)
            {
                if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
                {
                    Assert.Fail(reason);
                }

                Assert.Skip(reason);
            }

            var input = JsonSerializer.Serialize(cases.Select(c => new { type = c.Type, key = c.Key, @default = c.Default, context = c.Context }));
            var (code, output, error) = await Command.RunAsync("node", ["evaluate.mjs", Server.BaseAddress.ToString().TrimEnd('/'), token], Folder, TimeSpan.FromMinutes(1), Ct, input);
            Assert.True(code == 0, $"node exited with {code}: {error}");
            using var document = JsonDocument.Parse(output);
            return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
        }
    }
}
