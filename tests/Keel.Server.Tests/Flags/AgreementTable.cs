// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;

namespace Keel.Server.Tests.Flags;

/// <summary>
/// Flags and contexts on which every in-process evaluation (the .NET client, its FeatureManagement integration) is held to
/// the server's OFREP answers: rules, fractional buckets, semantic versions, object values, a disabled flag, one without a
/// default and one whose rule names a missing variant.
/// </summary>
public static class AgreementTable
{
    public const string File = """
        {
          "metadata": {"flagSetId": "mobile"},
          "$evaluators": {"beta_users": {"in": [{"var": "targetingKey"}, ["u-3", "u-7", "u-11"]]}},
          "flags": {
            "beta": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"$ref": "beta_users"}, "on", null]}},
            "staff": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"in": ["staff", {"var": "groups"}]}, "on", null]}},
            "theme": {"state": "ENABLED", "variants": {"dark": "dark", "light": "light", "auto": "auto"}, "defaultVariant": "auto",
                      "targeting": {"if": [{"==": [{"var": "platform"}, "ios"]}, {"fractional": [["dark", 1], ["light", 1]]}, "auto"]}},
            "retries": {"state": "ENABLED", "variants": {"few": 1, "many": 5}, "defaultVariant": "few",
                        "targeting": {"if": [{"sem_ver": [{"var": "version"}, "^", "3.0.0"]}, "many", null]}},
            "config": {"state": "ENABLED", "variants": {"a": {"timeout": 1.5}, "b": {"timeout": 3, "zones": ["eu", "us"]}}, "defaultVariant": "a",
                       "targeting": {"if": [{"starts_with": [{"var": "region"}, "eu-"]}, "b", "a"]}},
            "off": {"state": "DISABLED", "variants": {"x": true}, "defaultVariant": "x"},
            "no-default": {"state": "ENABLED", "variants": {"x": "y"}, "defaultVariant": null},
            "bad-rule": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x", "targeting": {"if": [true, "missing"]}}
          }
        }
        """;

    /// <summary>Sixteen users across platforms, versions, regions and groups, and the empty context.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Contexts { get; } =
        [.. Enumerable.Range(0, 16).Select(i => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["targetingKey"] = $"u-{i}",
            ["groups"] = i % 3 == 0 ? new[] { "staff", "eu" } : new[] { "customers" },
            ["platform"] = i % 2 == 0 ? "ios" : "android",
            ["version"] = $"{2 + (i % 3)}.{i}.0",
            ["region"] = i % 4 == 0 ? "eu-west-1" : "us-east-1",
        }), new Dictionary<string, object?>()];

    /// <summary>The server's answer for one flag and context.</summary>
    public static async Task<JsonElement> EvaluateOverOfrepAsync(HttpClient ofrep, string key, IReadOnlyDictionary<string, object?> context)
    {
        using var body = new StringContent(JsonSerializer.Serialize(new { context }), Encoding.UTF8, "application/json");
        using var response = await ofrep.PostAsync($"/ofrep/v1/evaluate/flags/{key}", body, TestContext.Current.CancellationToken);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return document.RootElement.Clone();
    }
}
