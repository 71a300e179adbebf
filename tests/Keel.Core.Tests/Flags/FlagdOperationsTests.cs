// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;
using Keel.Flags.JsonLogic;
using Keel.Flags.Targeting;

namespace Keel.Core.Tests.Flags;

/// <summary>
/// flagd's operations against vectors computed by flagd's own evaluator (flagd core's unit tests and the flagd-testbed's
/// evaluator suite, current "v2" bucketing), and MurmurHash3 against its published answers.
/// </summary>
public sealed class FlagdOperationsTests
{
    [Theory]
    [InlineData("", 0u)]
    [InlineData("test", 0xBA6BD213u)]
    [InlineData("hello", 613153351u)]
    [InlineData("Hello, world!", 0xC0363E43u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x2E4FF723u)]
    [InlineData("ejOoVL", 0u)]
    [InlineData("bY9fO-", 1u)]
    [InlineData("SI7p-", 2147483647u)]
    [InlineData("6LvT0", 2147483648u)]
    [InlineData("ceQdGm", 4294967295u)]
    [InlineData("headerColorfoo@foo.com", 3455740957u)]
    [InlineData("ümlaut", 3101324080u)]
    public void MurmurHash3_MatchesKnownAnswers(string text, uint expected)
    {
        Assert.Equal(expected, MurmurHash3.Hash32(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void MurmurHash3_OfRawBytes_MatchesKnownAnswers()
    {
        Assert.Equal(0x2362F9DEu, MurmurHash3.Hash32([0, 0, 0, 0]));
        Assert.Equal(0x76293B50u, MurmurHash3.Hash32([0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.Equal(0x514E28B7u, MurmurHash3.Hash32([], seed: 1));
    }

    const string Suits = """["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]""";

    [Theory]
    [InlineData("jack", "hearts")]
    [InlineData("queen", "spades")]
    [InlineData("ten", "clubs")]
    [InlineData("nine", "diamonds")]
    [InlineData("3", "clubs")]
    public void Fractional_ByAnExpression_MatchesFlagd(string name, string expected)
    {
        var rule = $$"""{"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}, {{Suits}}]}""";

        Assert.Equal(expected, Evaluate(rule, Context("fractional-flag", null, $$$"""{"user": {"name": "{{{name}}}"}}""")).String);
    }

    [Theory]
    [InlineData("ejOoVL", "lower")]
    [InlineData("bY9fO-", "lower")]
    [InlineData("SI7p-", "lower")]
    [InlineData("6LvT0", "upper")]
    [InlineData("ceQdGm", "upper")]
    public void Fractional_AtTheEdgesOfTheHash_MatchesFlagd(string targetingKey, string expected)
    {
        const string Rule = """{"fractional": [{"var": "targetingKey"}, ["lower", 50], ["upper", 50]]}""";

        Assert.Equal(expected, Evaluate(Rule, Context("fractional-hash-edge-flag", targetingKey)).String);
    }

    [Theory]
    [InlineData("fractional-flag-shorthand", "jon@company.com", """[["heads"], ["tails", 1]]""", "heads")]
    [InlineData("fractional-flag-shorthand", "jane@company.com", """[["heads"], ["tails", 1]]""", "tails")]
    [InlineData("headerColor", "foo@foo.com", """[["blue", 50], ["green", 50]]""", "green")]
    [InlineData("flagA", "foo@foo.com", """[["blue", 50], ["green", 50]]""", "blue")]
    [InlineData("flagA", "foo@foo.com", """[["blue", 25], ["green", 25], ["red", 25], ["yellow", 25]]""", "blue")]
    [InlineData("flagA", "foo@foo.com", """[["blue", 50], ["green"]]""", "blue")]
    [InlineData("flagA", "foo@foo.com", """["some string", ["blue", 50], ["green", 70]]""", "blue")]
    [InlineData("flagA", "foo@foo.com", """["flagAbucketKeyA", ["red", 50], ["blue", 50]]""", "red")]
    [InlineData("clampedWeightFlag", "some-targeting-key", """[["red", -1000], ["green", 1]]""", "green")]
    [InlineData("fractional-negative-weight-flag", "any-user", """[["one", -50], ["two", 100]]""", "two")]
    [InlineData("headerColor", "any-user", """[["yellow"]]""", "yellow")]
    [InlineData("headerColor", "foo@foo.com", """[{"var": "email"}, ["red", 50], ["blue", 50]]""", "blue")]
    public void Fractional_WithTheImplicitKeyOrALiteral_MatchesFlagd(string flagKey, string targetingKey, string arguments, string expected)
    {
        Assert.Equal(expected, Evaluate($$"""{"fractional": {{arguments}}}""", Context(flagKey, targetingKey)).String);
    }

    [Theory]
    [InlineData("rachel@faas.com", "blue")]
    [InlineData("monica@faas.com", "yellow")]
    [InlineData("joey@faas.com", "red")]
    [InlineData("ross@faas.com", "blue")]
    public void Fractional_OfFlagdsOwnUnitTests_MatchesFlagd(string email, string expected)
    {
        const string Rule = """
            {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, ["red", 25], ["blue", 25], ["green", 25], ["yellow", 25]]}
            """;

        Assert.Equal(expected, Evaluate(Rule, Context("headerColor", null, $$"""{"email": "{{email}}"}""")).String);
    }

    [Fact]
    public void Fractional_WithNestedRulesAsVariantsAndWeights_MatchesFlagd()
    {
        const string NestedIf = """{"fractional": [{"var": "targetingKey"}, [{"if": [{"==": [{"var": "tier"}, "premium"]}, "premium", "standard"]}, 50], ["standard", 50]]}""";
        const string NestedWeight = """{"fractional": [{"var": "targetingKey"}, ["red", {"if": [{"==": [{"var": "tier"}, "premium"]}, 100, 0]}], ["blue", 10]]}""";

        Assert.Equal("premium", Evaluate(NestedIf, Context("fractional-nested-if-flag", "jon@company.com", """{"tier": "premium"}""")).String);
        Assert.Equal("standard", Evaluate(NestedIf, Context("fractional-nested-if-flag", "user1", """{"tier": "premium"}""")).String);
        Assert.Equal("red", Evaluate(NestedWeight, Context("fractional-nested-weight-flag", "user1", """{"tier": "premium"}""")).String);
        Assert.Equal("blue", Evaluate(NestedWeight, Context("fractional-nested-weight-flag", "user1", """{"tier": "basic"}""")).String);
    }

    [Theory]
    [InlineData("""[["one", 50], ["two", 50]]""", null)]
    [InlineData("""[["one", 50], ["two", 50]]""", "")]
    [InlineData("""[["one", 0], ["two", 0]]""", "any-user")]
    [InlineData("""[["one", 25.5], ["two", 50]]""", "any-user")]
    [InlineData("""[["one", 2147483648]]""", "any-user")]
    [InlineData("""[["one", 2147483647], ["two", 1]]""", "any-user")]
    [InlineData("""[[["x"], 50]]""", "any-user")]
    [InlineData("""["key", "not a bucket"]""", "any-user")]
    [InlineData("""[]""", "any-user")]
    [InlineData("""[5, ["one", 1]]""", "any-user")]
    public void Fractional_WithArgumentsItCannotUse_IsNull(string arguments, string? targetingKey)
    {
        Assert.True(Evaluate($$"""{"fractional": {{arguments}}}""", Context("flag", targetingKey)).IsNull);
    }

    [Fact]
    public void Fractional_AsACondition_ReturnsTheVariantValue()
    {
        Assert.Equal("big", Evaluate("""{"if": [{"fractional": [[false, 0], [true, 100]]}, "big", "small"]}""", Context("f", "some-targeting-key")).String);
        Assert.Equal("small", Evaluate("""{"if": [{"fractional": [[false, 100], [true, 0]]}, "big", "small"]}""", Context("f", "some-targeting-key")).String);
    }

    [Theory]
    [InlineData("\"2.0.0\"", "=", "\"2.0.0\"", true)]
    [InlineData("\"2.1.0\"", ">", "\"2.0.0\"", true)]
    [InlineData("\"1.9.0\"", "<", "\"2.0.0\"", true)]
    [InlineData("\"2.0.0-alpha\"", "<", "\"2.0.0\"", true)]
    [InlineData("\"v1.0.0-preview.1.2\"", ">", "\"v1.0.0\"", false)]
    [InlineData("\"v1.0.0-preview.1.3\"", ">", "\"v1.0.0-preview.1.2\"", true)]
    [InlineData("\"1.0.0-alpha.10\"", ">", "\"1.0.0-alpha.9\"", true)]
    [InlineData("\"1.0.0-alpha.beta\"", ">", "\"1.0.0-alpha.1\"", true)]
    [InlineData("\"1.0.0-alpha.1\"", ">", "\"1.0.0-alpha\"", true)]
    [InlineData("\"0.0.1\"", "<", "\"v0.0.2\"", true)]
    [InlineData("\"V1.0.0\"", "=", "\"1.0.0\"", true)]
    [InlineData("\"v1234.0.1\"", "<", "\"v1235.0.2\"", true)]
    [InlineData("\"v1.0\"", "<", "\"v1.2\"", true)]
    [InlineData("\"v1.3.4\"", "^", "\"v1.5.3\"", true)]
    [InlineData("\"v2.1.1\"", "^", "\"v1.1.1\"", false)]
    [InlineData("\"v1.3.4\"", "~", "\"v1.3.1\"", true)]
    [InlineData("\"v2.2.1\"", "~", "\"v2.1.1\"", false)]
    [InlineData("\"3.0.1\"", "~", "\"3.0.0\"", true)]
    [InlineData("\"3.1.0\"", "~", "\"3.0.0\"", false)]
    [InlineData("1.2", "=", "\"1.2\"", true)]
    [InlineData("1", "=", "\"v1.0.0\"", true)]
    [InlineData("1.2", ">", "\"1.1\"", true)]
    [InlineData("1", ">", "\"1.1\"", false)]
    [InlineData("\"1.0.0+other\"", "=", "\"1.0.0+build\"", true)]
    [InlineData("\"1.0.0\"", "!=", "\"1.0.1\"", true)]
    [InlineData("\"1.0.0\"", ">=", "\"1.0.0\"", true)]
    [InlineData("\"1.0.0\"", "<=", "\"0.9.9\"", false)]
    public void SemVer_ComparesAsFlagd(string left, string op, string right, bool expected)
    {
        Assert.Equal(LogicValue.From(expected), Evaluate($$"""{"sem_ver": [{{left}}, "{{op}}", {{right}}]}""", LogicValue.Null));
    }

    [Theory]
    [InlineData("""["2.0.0.0", "=", "2.0.0"]""")]
    [InlineData("""["not-a-version", "=", "1.0.0"]""")]
    [InlineData("""["1.0.0", "===", "1.0.0"]""")]
    [InlineData("""["1.0.0", "="]""")]
    [InlineData("""["01.0.0", "=", "1.0.0"]""")]
    [InlineData("""["1-beta", "=", "1.0.0-beta"]""")]
    [InlineData("""["1.0.0-", "=", "1.0.0"]""")]
    [InlineData("""["1.0.0-01", "=", "1.0.0"]""")]
    [InlineData("""[1000000, "=", "1000000.0.0"]""")]
    [InlineData("""[null, "=", "1.0.0"]""")]
    [InlineData("""[true, "=", "1.0.0"]""")]
    [InlineData("""[" 1.0.0", "=", "1.0.0"]""")]
    [InlineData("""["1.0.0", 1, "1.0.0"]""")]
    public void SemVer_WithInvalidArguments_IsNull(string arguments)
    {
        Assert.True(Evaluate($$"""{"sem_ver": {{arguments}}}""", LogicValue.Null).IsNull);
    }

    [Theory]
    [InlineData("starts_with", """["abcdef", "abc"]""", true)]
    [InlineData("starts_with", """["abcdef", "ABC"]""", false)]
    [InlineData("starts_with", """["abcdef", ""]""", true)]
    [InlineData("ends_with", """["uvwxyz", "xyz"]""", true)]
    [InlineData("ends_with", """["abcxyz", "abc"]""", false)]
    public void StringComparisons_AreOrdinalPrefixAndSuffixTests(string operation, string arguments, bool expected)
    {
        Assert.Equal(LogicValue.From(expected), Evaluate($$"""{"{{operation}}": {{arguments}}}""", LogicValue.Null));
    }

    [Theory]
    [InlineData("starts_with", """[123, "1"]""")]
    [InlineData("ends_with", """["abc", 3]""")]
    [InlineData("ends_with", """["abc"]""")]
    [InlineData("starts_with", """[{"var": "missing"}, "a"]""")]
    public void StringComparisons_OfAnythingButTwoStrings_AreNull(string operation, string arguments)
    {
        Assert.True(Evaluate($$"""{"{{operation}}": {{arguments}}}""", LogicValue.Null).IsNull);
    }

    static LogicValue Context(string flagKey, string? targetingKey, string? properties = null)
    {
        using var document = JsonDocument.Parse(properties ?? "{}");
        var context = LogicObject.FromJson(document.RootElement);
        if (targetingKey is not null)
        {
            context = context.With(FlagdOperations.TargetingKeyProperty, LogicValue.From(targetingKey));
        }

        var flagd = LogicObject.From([KeyValuePair.Create("flagKey", LogicValue.From(flagKey)), KeyValuePair.Create("timestamp", LogicValue.From(1_700_000_000))]);
        return LogicValue.From(context.With(FlagdOperations.FlagdProperty, LogicValue.From(flagd)));
    }

    static LogicValue Evaluate(string rule, LogicValue data)
    {
        using var document = JsonDocument.Parse(rule);
        return LogicRule.Compile(document.RootElement, FlagdOperations.All).Evaluate(data);
    }
}
