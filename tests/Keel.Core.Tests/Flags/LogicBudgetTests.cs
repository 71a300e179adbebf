// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Keel.Flags.Targeting;

namespace Keel.Core.Tests.Flags;

/// <summary>
/// Rules written to exhaust whoever evaluates them: each stops within its budget and fails as GENERAL, saying which bound it
/// reached; and rules within the budget evaluate as before.
/// </summary>
public sealed class LogicBudgetTests
{
    static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    [Fact]
    public void Evaluate_OfAReduceThatDoublesAString_StopsAtTheBuiltLength()
    {
        // 327 bytes that, unbounded, build a string of 2^31 characters.
        var result = EvaluateFlag($$"""{"reduce": [{{Numbers(30)}}, {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "ab"]}""");
        var readingUnbounded = EvaluateFlag(
            $$"""{"reduce": [{{Numbers(30)}}, {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "ab"]}""",
            limits: LogicLimits.Default with { MaxIterations = int.MaxValue });

        // Each step reads the accumulator twice before it builds their concatenation, so reading reaches its bound first.
        AssertGeneral(result, "reading more than 1,000,000 items and characters");
        AssertGeneral(readingUnbounded, "building more than 1,000,000 characters and items");
    }

    [Fact]
    public void Evaluate_OfMapsInsideMaps_StopsAtTheOperationCount()
    {
        var result = EvaluateFlag($$"""{"map": [{{Numbers(300)}}, {"map": [{{Numbers(300)}}, {"map": [{{Numbers(300)}}, {"+": [{"var": ""}, 1]}]}]}]}""");

        AssertGeneral(result, "more than 100,000 operations");
    }

    [Fact]
    public void Evaluate_OfOperationsThatReadALargeContextAgainAndAgain_StopsAtTheIterationCount()
    {
        var rule = $$"""{"and": [{{string.Join(", ", Enumerable.Repeat("""{"!": {"in": [-1, {"var": "ids"}]}}""", 20))}}, "a"]}""";
        var context = $$"""{"ids": {{Numbers(100_000)}}}""";

        var result = EvaluateFlag(rule, context);
        var generous = EvaluateFlag(rule, context, LogicLimits.Default with { MaxIterations = 10_000_000 });

        AssertGeneral(result, "reading more than 1,000,000 items and characters");
        Assert.Equal(("a", FlagReasons.TargetingMatch), (generous.Variant, generous.Reason));
    }

    [Fact]
    public void Evaluate_OfAComparisonWithADeeplyNestedArray_ChargesEveryItem()
    {
        // Comparing an array with a string joins every nested item into text: reading it costs all of them, not its length.
        var nested = "[" + string.Join(", ", Enumerable.Repeat(Numbers(1_000), 1_000)) + "]";
        var rule = $$"""{"and": [{{string.Join(", ", Enumerable.Repeat("""{"!": {"==": [{"var": "grid"}, "x"]}}""", 5))}}, "a"]}""";

        var result = EvaluateFlag(rule, $$"""{"grid": {{nested}}}""");

        AssertGeneral(result, "reading more than 1,000,000 items and characters");
    }

    [Fact]
    public void Evaluate_OfARuleThatBuildsValuesTooDeepToWrite_FailsWithoutTheRuntimesMessage()
    {
        var result = EvaluateFlag($$"""{"reduce": [{{Numbers(30_000)}}, [{"var": "accumulator"}], []]}""");

        Assert.Equal((FlagReasons.Error, FlagErrorCodes.ParseError), (result.Reason, result.ErrorCode));
        Assert.Equal("The targeting rule of flag 'f' cannot be evaluated for this context.", result.ErrorDetails);
    }

    [Fact]
    public void Evaluate_WithinTheBudget_GivesTheRulesValue()
    {
        var result = EvaluateFlag($$"""{"if": [{"in": [{"var": "id"}, {{Numbers(10_000)}}]}, {"cat": ["a", {"substr": ["bcd", 0, 1]}]}, "z"]}""", """{"id": 9999}""");

        Assert.Equal(("ab", FlagReasons.TargetingMatch), (result.Variant, result.Reason));
    }

    [Fact]
    public void Compile_OfARuleHoldingALiteralLargerThanAnEvaluationMayRead_IsRefusedWithItsPath()
    {
        var limits = LogicLimits.Default with { MaxIterations = 1_000 };
        using var within = JsonDocument.Parse($$"""{"in": [1, {{Numbers(1_000)}}]}""");
        using var beyond = JsonDocument.Parse($$"""{"in": [1, {{Numbers(1_001)}}]}""");
        using var longText = JsonDocument.Parse($$"""{"in": ["x", "{{new string('y', 1_001)}}"]}""");

        LogicRule.Compile(within.RootElement, FlagdOperations.All, limits);
        var array = Assert.Throws<LogicRuleException>(() => LogicRule.Compile(beyond.RootElement, FlagdOperations.All, limits));
        var text = Assert.Throws<LogicRuleException>(() => LogicRule.Compile(longText.RootElement, FlagdOperations.All, limits));

        Assert.Equal("$.in[1]", array.Path);
        Assert.Contains("more than 1,000 items and characters", array.Message, StringComparison.Ordinal);
        Assert.Equal("$.in[1]", text.Path);
    }

    [Fact]
    public void Parse_OfAFlagWhoseRuleHoldsALiteralTooLarge_NamesItsPath()
    {
        using var document = JsonDocument.Parse($$$"""{"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a", "targeting": {"if": [{"in": [1, {{{Numbers(2_000)}}}]}, "a"]}}""");

        var e = Assert.Throws<FlagDefinitionException>(() => FlagDefinitions.Parse("f", document.RootElement, limits: LogicLimits.Default with { MaxIterations = 1_000 }));

        Assert.Equal("$.targeting.if[0].in[1]", Assert.Single(e.FieldErrors).Path);
    }

    [Fact]
    public void ParseFile_OfARuleNamingALargeSharedRuleManyTimes_StopsPuttingItInPlaceAtTheSizeLimit()
    {
        var references = string.Join(", ", Enumerable.Repeat("""{"$ref": "big"}""", 500));
        var file = """{"$evaluators": {"big": {"in": [1, """ + Numbers(20_000) + """]}}, "flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a", "targeting": {"or": [""" + references + "]}}}}";
        using var document = JsonDocument.Parse(file);

        var e = Assert.Throws<FlagDefinitionException>(() => FlagDefinitions.ParseFile(document.RootElement, maxDefinitionBytes: 1024 * 1024));

        var error = Assert.Single(e.FieldErrors);
        Assert.Equal("$.flags.f.targeting", error.Path);
        Assert.Contains("more than 1048576 bytes", error.Message, StringComparison.Ordinal);
    }

    static void AssertGeneral(FlagResult result, string what)
    {
        Assert.Equal((FlagReasons.Error, FlagErrorCodes.General), (result.Reason, result.ErrorCode));
        Assert.Equal($"The targeting rule of flag 'f' needs more work than one evaluation may do: {what}.", result.ErrorDetails);
    }

    static FlagResult EvaluateFlag(string targeting, string context = "{}", LogicLimits? limits = null)
    {
        using var definition = JsonDocument.Parse($$"""{"state": "ENABLED", "variants": {"a": "a", "ab": "ab", "z": "z"}, "defaultVariant": "a", "targeting": {{targeting}}}""");
        using var data = JsonDocument.Parse(context);
        var flag = FlagDefinitions.Parse("f", definition.RootElement);
        return FlagEvaluator.Evaluate(flag, LogicObject.FromJson(data.RootElement), Now, limits ?? LogicLimits.Default);
    }

    static string Numbers(int count) => "[" + string.Join(", ", Enumerable.Range(0, count)) + "]";
}
