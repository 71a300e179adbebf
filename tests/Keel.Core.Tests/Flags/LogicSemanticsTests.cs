// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Flags.JsonLogic;

namespace Keel.Core.Tests.Flags;

/// <summary>JavaScript's conversions, where the shared JsonLogic suite leaves them untested; expected values are what Node.js prints.</summary>
public sealed class LogicSemanticsTests
{
    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(1.0, "1")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(0.0000001, "1e-7")]
    [InlineData(123456789012345680000.0, "123456789012345680000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(1e16, "10000000000000000")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void FormatNumber_PrintsAsJavaScript(double number, string expected)
    {
        Assert.Equal(expected, LogicSemantics.FormatNumber(number));
    }

    [Theory]
    [InlineData("\"\"", 0.0)]
    [InlineData("\" 12 \"", 12.0)]
    [InlineData("\"0x1A\"", 26.0)]
    [InlineData("\"1e3\"", 1000.0)]
    [InlineData("\"-Infinity\"", double.NegativeInfinity)]
    [InlineData("\"12px\"", double.NaN)]
    [InlineData("\"NaN\"", double.NaN)]
    [InlineData("[]", 0.0)]
    [InlineData("[7]", 7.0)]
    [InlineData("[1, 2]", double.NaN)]
    [InlineData("{}", double.NaN)]
    [InlineData("null", 0.0)]
    [InlineData("true", 1.0)]
    public void ToNumber_ConvertsAsJavaScript(string json, double expected)
    {
        Assert.Equal(expected, LogicSemantics.ToNumber(Value(json)));
    }

    [Theory]
    [InlineData("\"3 apples\"", 3.0)]
    [InlineData("\" -2.5e1x\"", -25.0)]
    [InlineData("\".5\"", 0.5)]
    [InlineData("\"e5\"", double.NaN)]
    [InlineData("\"\"", double.NaN)]
    [InlineData("true", double.NaN)]
    public void ParseFloat_ReadsTheLeadingNumber(string json, double expected)
    {
        Assert.Equal(expected, LogicSemantics.ParseFloat(Value(json)));
    }

    [Theory]
    [InlineData("1", "\"1\"", true)]
    [InlineData("0", "\"\"", true)]
    [InlineData("0", "false", true)]
    [InlineData("\"1\"", "true", true)]
    [InlineData("null", "0", false)]
    [InlineData("null", "null", true)]
    [InlineData("[1]", "\"1\"", true)]
    [InlineData("[1, 2]", "\"1,2\"", true)]
    [InlineData("[]", "false", true)]
    [InlineData("\"a\"", "\"A\"", false)]
    public void LooseEquals_ConvertsAsJavaScript(string a, string b, bool expected)
    {
        Assert.Equal(expected, LogicSemantics.LooseEquals(Value(a), Value(b)));
        Assert.Equal(expected, LogicSemantics.LooseEquals(Value(b), Value(a)));
    }

    [Fact]
    public void Rules_ThatNestTooDeeplyOrUseUnknownOperations_AreRefusedWithThePath()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"!\": ", LogicRule.MaxDepth + 2)) + "true" + new string('}', LogicRule.MaxDepth + 2);

        var unknown = Assert.Throws<LogicRuleException>(() => Compile("""{"if": [{"==": [1, 1]}, {"nope": [1]}, 2]}"""));
        var tooDeep = Assert.Throws<LogicRuleException>(() => Compile(deep));

        Assert.Equal("$.if[1].nope", unknown.Path);
        Assert.Contains("'nope'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("nests", tooDeep.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACompiledRule_EvaluatesAgainstAnyData_WithoutChangingIt()
    {
        var rule = Compile("""{"if": [{"in": [{"var": "user.email"}, ["a@x.io", "b@x.io"]]}, "on", {"cat": ["off-", {"var": "user.id"}]}]}""");

        Assert.Equal("on", rule.Evaluate(Value("""{"user": {"email": "b@x.io"}}""")).String);
        Assert.Equal("off-7", rule.Evaluate(Value("""{"user": {"email": "c@x.io", "id": 7}}""")).String);
        Assert.Equal("off-", rule.Evaluate(LogicValue.Null).String);
    }

    static LogicRule Compile(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        return LogicRule.Compile(document.RootElement);
    }

    static LogicValue Value(string json)
    {
        using var document = JsonDocument.Parse(json);
        return LogicValue.FromJson(document.RootElement);
    }
}
