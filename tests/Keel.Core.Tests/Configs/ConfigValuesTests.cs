// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Core.Tests.Configs;

public class ConfigValuesTests
{
    [Theory]
    [InlineData("")]
    [InlineData("anything at all")]
    [InlineData("{not json")]
    [InlineData("line\nbreaks\tand tabs")]
    [InlineData("ünïcödé 🚀")]
    public void String_AcceptsAnyText(string value) => AssertValid(ConfigValueType.String, value);

    [Theory]
    [InlineData("0")]
    [InlineData("42")]
    [InlineData("-7")]
    [InlineData("3.14")]
    [InlineData("1.5e3")]
    [InlineData("-0.0E-10")]
    [InlineData("1e999")]
    public void Number_AcceptsOneJsonNumber(string value) => AssertValid(ConfigValueType.Number, value);

    [Theory]
    [InlineData("")]
    [InlineData(" 42")]
    [InlineData("42 ")]
    [InlineData("42\n")]
    [InlineData("abc")]
    [InlineData("0x1F")]
    [InlineData("01")]
    [InlineData("+1")]
    [InlineData(".5")]
    [InlineData("1.")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1 2")]
    [InlineData("[1]")]
    [InlineData("\"1\"")]
    [InlineData("true")]
    public void Number_RejectsAnythingElse(string value) => AssertInvalid(ConfigValueType.Number, value, "one JSON number");

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public void Boolean_AcceptsTrueAndFalse(string value) => AssertValid(ConfigValueType.Boolean, value);

    [Theory]
    [InlineData("True")]
    [InlineData("FALSE")]
    [InlineData("yes")]
    [InlineData("1")]
    [InlineData(" true")]
    [InlineData("")]
    public void Boolean_RejectsAnythingElse(string value) => AssertInvalid(ConfigValueType.Boolean, value, "exactly 'true' or 'false'");

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"a\":[1,2,{\"b\":null}]}")]
    [InlineData("\"a string\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("  {\"padded\": true}  ")]
    [InlineData("{\"a\": {\"a\": 1}, \"b\": [{\"a\": 1}, {\"a\": 2}]}")]
    [InlineData("\"escaped \\u0000 and a pair \\ud83d\\ude80\"")]
    public void Json_AcceptsOneJsonDocument(string value) => AssertValid(ConfigValueType.Json, value);

    [Theory]
    [InlineData("{\"a\": 1, \"a\": 2}", "repeats a name within one object")]
    [InlineData("[{\"x\": {\"k\": 1, \"k\": 1}}]", "repeats a name within one object")]
    [InlineData("\"\\ud800\"", "escaped unpaired surrogate")]
    [InlineData("{\"\\udc00\": 1}", "escaped unpaired surrogate")]
    [InlineData("[\"ok\", \"\\ud83d x\"]", "escaped unpaired surrogate")]
    public void Json_RejectsWhatParsersDisagreeOn(string value, string reason) => AssertInvalid(ConfigValueType.Json, value, reason);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":1} {\"b\":2}")]
    [InlineData("// comment\n{}")]
    [InlineData("undefined")]
    public void Json_RejectsInvalidJson(string value) => AssertInvalid(ConfigValueType.Json, value, "must be valid JSON");

    [Fact]
    public void Json_ReportsWhereItFails_WithoutQuotingTheValue()
    {
        Assert.False(ConfigValues.IsValid(ConfigValueType.Json, "{\n  \"password\": hunter2\n}", out var error));

        Assert.Equal("A json config_value must be valid JSON: it does not parse at line 2, byte 15.", error);
    }

    [Fact]
    public void Json_RejectsNestingDeeperThanTheLimit()
    {
        var deep = new string('[', ConfigValues.MaxNestingDepth + 1) + new string(']', ConfigValues.MaxNestingDepth + 1);
        var ok = new string('[', ConfigValues.MaxNestingDepth) + new string(']', ConfigValues.MaxNestingDepth);

        AssertValid(ConfigValueType.Json, ok);
        AssertInvalid(ConfigValueType.Json, deep, "nests deeper than 64");
    }

    [Theory]
    [InlineData("")]
    [InlineData("key: value")]
    [InlineData("server:\n  port: 8080\n  hosts:\n    - a\n    - b\n")]
    [InlineData("[1, 2, {a: b}]")]
    [InlineData("{\"json\": \"is yaml too\"}")]
    [InlineData("anchors: &a {x: 1}\nref: *a")]
    [InlineData("---\na: 1\n---\nb: 2\n")]
    [InlineData("plain scalar")]
    public void Yaml_AcceptsYamlStreams(string value) => AssertValid(ConfigValueType.Yaml, value);

    [Theory]
    [InlineData("key: [unclosed")]
    [InlineData("a: b: c")]
    [InlineData("key:\n\t- tab indented")]
    [InlineData("{a: 1")]
    [InlineData("ref: *undefined")]
    public void Yaml_RejectsInvalidYaml(string value) => AssertInvalid(ConfigValueType.Yaml, value, "must be valid YAML");

    [Fact]
    public void Yaml_RejectsNestingDeeperThanTheLimit_WithoutExhaustingTheStack()
    {
        // A megabyte of flow nesting: a recursive parser would overflow the stack and take the process down.
        var hostile = new string('[', 1024 * 1024);
        AssertInvalid(ConfigValueType.Yaml, hostile, "nest at most 64");

        var blockNested = string.Concat(Enumerable.Range(0, 100).Select(i => new string(' ', i * 2) + "k:\n"));
        AssertInvalid(ConfigValueType.Yaml, blockNested, "nest at most 64");
    }

    [Fact]
    public void Yaml_AnswersEveryInput_WithoutThrowing()
    {
        // Fragments that drive the parser into its less travelled paths: tags, directives, anchors, flow and block mixes.
        string[] fragments =
        [
            "!!str", "!", "!<tag:x>", "%YAML 1.2\n", "%TAG ! tag:a,b:\n", "---", "...", "&a", "*a", "*", "[", "]", "{", "}", ",", ":",
            "? ", "- ", "|", ">", "'", "\"", "#", "\n", "  ", "\t", "key", "x y", "@", "`", "\u00FF", "!!binary", "<<", "~",
        ];
        var random = new Random(1123);
        for (var i = 0; i < 20_000; i++)
        {
            var value = string.Concat(Enumerable.Range(0, random.Next(1, 10)).Select(_ => fragments[random.Next(fragments.Length)]));

            var exception = Record.Exception(() => ConfigValues.IsValid(ConfigValueType.Yaml, value, out _));

            Assert.True(exception is null, $"{exception?.GetType().Name} for {value}");
        }
    }

    [Theory]
    [InlineData("... x")]
    [InlineData("!!str]")]
    [InlineData("[!!str]")]
    public void Yaml_RejectsInputTheParserFailsOnWithoutAYamlException(string value) =>
        AssertInvalid(ConfigValueType.Yaml, value, "must be valid YAML");

    [Theory]
    [InlineData(ConfigValueType.String)]
    [InlineData(ConfigValueType.Json)]
    [InlineData(ConfigValueType.Yaml)]
    public void EveryType_RejectsNulCharacters(ConfigValueType type)
    {
        AssertInvalid(type, "\"a\u0000b\"", "U+0000");
    }

    [Theory]
    [InlineData(ConfigValueType.String)]
    [InlineData(ConfigValueType.Json)]
    public void EveryType_RejectsUnpairedSurrogates(ConfigValueType type)
    {
        AssertInvalid(type, "\"a\uD800b\"", "unpaired surrogate");
        AssertValid(ConfigValueType.String, "paired \uD83D\uDE80");
    }

    [Fact]
    public void Validate_ThrowsInvalidValue_WithTheFieldError()
    {
        var e = Assert.Throws<KeelException>(() => ConfigValues.Validate(ConfigValueType.Boolean, "maybe"));

        Assert.Equal(KeelError.InvalidValue, e.Error);
        var field = Assert.Single(e.FieldErrors);
        Assert.Equal("config_value", field.Path);
    }

    static void AssertValid(ConfigValueType type, string value) =>
        Assert.True(ConfigValues.IsValid(type, value, out var error), error);

    static void AssertInvalid(ConfigValueType type, string value, string reason)
    {
        Assert.False(ConfigValues.IsValid(type, value, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
