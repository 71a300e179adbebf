// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Flags;
using Keel.Flags;
using Keel.Flags.JsonLogic;

namespace Keel.Core.Tests.Flags;

/// <summary>Flag definitions read as flagd reads them, and evaluated in flagd's order with flagd's reasons (flagd-testbed's expectations).</summary>
public sealed class FlagEvaluatorTests
{
    static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    const string File = """
        {
          "$schema": "https://flagd.dev/schema/v0/flags.json",
          "metadata": {"flagSetId": "checkout", "version": "7", "team": "payments"},
          "$evaluators": {"is_staff": {"ends_with": [{"var": "email"}, "@keel.example"]}},
          "flags": {
            "static-flag": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on", "targeting": {}},
            "disabled-flag": {"state": "DISABLED", "variants": {"a": "x"}, "defaultVariant": "a", "metadata": {"team": "growth"}},
            "null-default-flag": {"state": "ENABLED", "variants": {"one": 1, "two": 2}, "defaultVariant": null},
            "staff-flag": {
              "state": "ENABLED", "variants": {"staff": "green", "others": "blue"}, "defaultVariant": "others",
              "targeting": {"if": [{"$ref" : "is_staff"}, "staff", null]}
            },
            "missing-variant-flag": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a", "targeting": {"if": [true, "b"]}},
            "boolean-result-flag": {"state": "ENABLED", "variants": {"false": 1, "true": 2}, "defaultVariant": "false", "targeting": {"if": [true, true, false]}},
            "default-match-flag": {"state": "ENABLED", "variants": {"a": {"k": 1}, "b": {"k": 2}}, "defaultVariant": "a", "targeting": {"if": [true, "a"]}},
            "flagd-context-flag": {
              "state": "ENABLED", "variants": {"mine": "m", "later": "l", "sooner": "s"}, "defaultVariant": "sooner",
              "targeting": {"if": [{"!==": [{"var": "$flagd.flagKey"}, "flagd-context-flag"]}, "mine", {">=": [{"var": "$flagd.timestamp"}, 1750000000]}, "later", "sooner"]}
            },
            "no-default-targeted-flag": {"state": "ENABLED", "variants": {"ceo": "CEO"}, "targeting": {"if": [{"==": [{"var": "email"}, "jobs@orange.com"]}, "ceo", null]}}
          }
        }
        """;

    static readonly Dictionary<string, FlagDefinition> Flags = ParseFile(File).ToDictionary(f => f.Key);

    [Fact]
    public void AFlagWithoutTargeting_ServesItsDefaultVariant_AsStatic()
    {
        var result = Evaluate("static-flag");

        Assert.Equal((LogicValue.True, "on", FlagReasons.Static, (string?)null), (result.Value!.Value, result.Variant, result.Reason, result.ErrorCode));
    }

    [Fact]
    public void ADisabledFlag_HasNoValueAndNoVariant_ButItsMetadata()
    {
        var result = Evaluate("disabled-flag");

        Assert.Equal((null, null, FlagReasons.Disabled), (result.Value, result.Variant, result.Reason));
        Assert.Equal("growth", result.Metadata["team"].String);
    }

    [Fact]
    public void AFlagWithoutADefaultVariant_HasNoValue_AsDefault()
    {
        Assert.Equal((null, null, FlagReasons.Default), (Evaluate("null-default-flag").Value, Evaluate("null-default-flag").Variant, Evaluate("null-default-flag").Reason));
        var miss = Evaluate("no-default-targeted-flag", """{"email": "wozniak@orange.com"}""");
        var hit = Evaluate("no-default-targeted-flag", """{"email": "jobs@orange.com"}""");
        Assert.Equal((null, FlagReasons.Default), (miss.Value, miss.Reason));
        Assert.Equal(("CEO", FlagReasons.TargetingMatch), (hit.Value!.Value.String, hit.Reason));
    }

    [Fact]
    public void Targeting_ThroughASharedRule_MatchesOrFallsBackToTheDefault()
    {
        var staff = Evaluate("staff-flag", """{"email": "ann@keel.example"}""");
        var other = Evaluate("staff-flag", """{"email": "bob@example.com"}""");
        var none = Evaluate("staff-flag");

        Assert.Equal(("staff", "green", FlagReasons.TargetingMatch), (staff.Variant, staff.Value!.Value.String, staff.Reason));
        Assert.Equal(("others", "blue", FlagReasons.Default), (other.Variant, other.Value!.Value.String, other.Reason));
        Assert.Equal(("others", FlagReasons.Default), (none.Variant, none.Reason));
    }

    [Fact]
    public void Targeting_ThatNamesAVariantTheFlagLacks_IsAGeneralError()
    {
        var result = Evaluate("missing-variant-flag");

        Assert.Equal((null, FlagReasons.Error, FlagErrorCodes.General), (result.Value, result.Reason, result.ErrorCode));
        Assert.Contains("'b'", result.ErrorDetails, StringComparison.Ordinal);
    }

    [Fact]
    public void Targeting_ThatGivesABoolean_NamesTheVariantTrueOrFalse()
    {
        Assert.Equal(("true", 2.0), (Evaluate("boolean-result-flag").Variant, Evaluate("boolean-result-flag").Value!.Value.Number));
    }

    [Fact]
    public void Targeting_ThatPicksTheDefaultVariant_IsStillATargetingMatch()
    {
        var result = Evaluate("default-match-flag");

        Assert.Equal(("a", FlagReasons.TargetingMatch), (result.Variant, result.Reason));
        Assert.Equal("""{"k":1}""", result.Value!.Value.ToJson());
    }

    [Fact]
    public void Targeting_SeesTheFlagKeyAndTimestamp_ThatTheCallerCannotOverride()
    {
        var result = Evaluate("flagd-context-flag", """{"$flagd": {"flagKey": "other", "timestamp": 0}}""");
        var earlier = FlagEvaluator.Evaluate(Flags["flagd-context-flag"], LogicObject.From([]), Now.AddSeconds(-1));

        Assert.Equal("later", result.Variant);
        Assert.Equal("sooner", earlier.Variant);
    }

    [Fact]
    public void Metadata_OfTheFlagSet_IsMergedUnderTheFlags()
    {
        var result = Evaluate("disabled-flag");
        var plain = Evaluate("static-flag");

        Assert.Equal(["flagSetId", "team", "version"], result.Metadata.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("checkout", "7", "growth"), (result.Metadata["flagSetId"].String, result.Metadata["version"].String, result.Metadata["team"].String));
        Assert.Equal("payments", plain.Metadata["team"].String);
    }

    [Fact]
    public void TheStoredDefinition_StandsAlone_AndReadsBackTheSame()
    {
        var staff = Flags["staff-flag"];
        using var stored = JsonDocument.Parse(staff.Json);

        var again = FlagDefinitions.Parse("staff-flag", stored.RootElement);

        Assert.DoesNotContain("$ref", staff.Json, StringComparison.Ordinal);
        Assert.Equal(staff.Json, again.Json);
        Assert.Equal("payments", again.Metadata["team"].String);
        Assert.Equal("staff", FlagEvaluator.Evaluate(again, LogicObject.FromJson(JsonDocument.Parse("""{"email": "a@keel.example"}""").RootElement), Now).Variant);
    }

    [Fact]
    public void AFileWithFlagsAsAnArray_IsReadToo()
    {
        var flags = ParseFile("""{"flags": [{"key": "a", "state": "ENABLED", "variants": {"x": "1"}, "defaultVariant": "x"}]}""");

        Assert.Equal("a", Assert.Single(flags).Key);
    }

    [Theory]
    [InlineData("""{"flags": {"f": {"state": "on", "variants": {"a": 1}}}}""", "$.flags.f.state")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {}}}}""", "$.flags.f.variants")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1, "b": "1"}}}}""", "$.flags.f.variants.b")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": [1]}}}}""", "$.flags.f.variants.a")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": null}}}}""", "$.flags.f.variants.a")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "b"}}}""", "$.flags.f.defaultVariant")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"if": [{"nope": 1}, "a"]}}}}""", "$.flags.f.targeting.if[0].nope")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "missing"}}}}""", "$.flags.f.targeting.$ref")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "targeting": "a"}}}""", "$.flags.f.targeting")]
    [InlineData("""{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "metadata": {"owner": {"team": "x"}}}}}""", "$.flags.f.metadata.owner")]
    [InlineData("""{"flags": {"f/../g": {"state": "ENABLED", "variants": {"a": 1}}}}""", "$.flags['f/../g']")]
    [InlineData("""{"flags": [{"state": "ENABLED", "variants": {"a": 1}}]}""", "$.flags[0].key")]
    [InlineData("""{"flags": [{"key": "f", "state": "ENABLED", "variants": {"a": 1}}, {"key": "f", "state": "ENABLED", "variants": {"a": 1}}]}""", "$.flags[1]")]
    [InlineData("""{"metadata": {"version": [1]}, "flags": {}}""", "$.metadata.version")]
    [InlineData("""{"flag": {}}""", "$.flags")]
    [InlineData("""[]""", "$")]
    public void InvalidDefinitions_AreRefused_NamingWhere(string file, string path)
    {
        var e = Assert.Throws<FlagDefinitionException>(() => ParseFile(file));

        Assert.Contains(path, e.FieldErrors.Select(f => f.Path));
    }

    [Fact]
    public void EveryProblem_IsReportedAtOnce()
    {
        var e = Assert.Throws<FlagDefinitionException>(() => ParseFile("""
            {"flags": {"a": {"state": "x", "variants": {"v": 1}}, "b": {"state": "ENABLED", "variants": {"v": 1}, "defaultVariant": "w"}}}
            """));

        Assert.Equal(["$.flags.a.state", "$.flags.b.defaultVariant"], e.FieldErrors.Select(f => f.Path));
    }

    static FlagResult Evaluate(string key, string context = "{}")
    {
        using var document = JsonDocument.Parse(context);
        return FlagEvaluator.Evaluate(Flags[key], LogicObject.FromJson(document.RootElement), Now);
    }

    static IReadOnlyList<FlagDefinition> ParseFile(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FlagDefinitions.ParseFile(document.RootElement, keyRule: FlagStorage.KeyRule);
    }
}
