// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Core.Tests.Configs;

public class ConfigNamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("user-service")]
    [InlineData("payments.v2_eu-west")]
    [InlineData("9lives")]
    public void IsValidServiceName_AcceptsLowerCaseLettersDigitsDotsUnderscoresAndDashes(string name)
    {
        Assert.True(ConfigNames.IsValidServiceName(name, out var error), error);
        Assert.True(ConfigNames.IsValidEnvironment(name, out error), error);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("User", "found 'U' at position 0")]
    [InlineData("-svc", "must start with a lower-case letter or a digit")]
    [InlineData(".svc", "must start with a lower-case letter or a digit")]
    [InlineData("_svc", "must start with a lower-case letter or a digit")]
    [InlineData("svc/x", "found '/' at position 3")]
    [InlineData("svc x", "found U+0020 at position 3")]
    [InlineData("svc\tx", "found U+0009 at position 3")]
    [InlineData("sérvice", "found 'é' at position 1")]
    public void IsValidServiceName_RejectsOtherNames_SayingWhy(string name, string reason)
    {
        Assert.False(ConfigNames.IsValidServiceName(name, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.StartsWith("service_name", error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsValidServiceName_AcceptsExactlyOneHundredCharacters()
    {
        Assert.True(ConfigNames.IsValidServiceName(new string('a', 100), out _));
        Assert.False(ConfigNames.IsValidServiceName(new string('a', 101), out var error));
        Assert.Contains("at most 100", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k")]
    [InlineData("database.connection:timeout")]
    [InlineData("Feature_Flag-ENABLED")]
    [InlineData("a\\b")]
    [InlineData("50%")]
    [InlineData("?#&=+@!$")]
    [InlineData("ключ")]
    [InlineData("日本語")]
    [InlineData("rocket-🚀")]
    [InlineData("...")]
    [InlineData(".hidden")]
    [InlineData("private-\uE000")]
    [InlineData("import")]
    [InlineData("history")]
    public void IsValidKey_AcceptsPrintableCharacters(string key)
    {
        Assert.True(ConfigNames.IsValidKey(key, out var error), error);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("a/b", "must not contain '/'")]
    [InlineData("a b", "must not contain U+0020")]
    [InlineData("a\tb", "must not contain U+0009")]
    [InlineData("a\nb", "must not contain U+000A")]
    [InlineData("a\u0000b", "must not contain U+0000")]
    [InlineData("a\u007Fb", "must not contain U+007F")]
    [InlineData("a\u00A0b", "must not contain U+00A0")]
    [InlineData("a\u200Bb", "must not contain U+200B")]
    [InlineData("a\u202Eb", "must not contain U+202E")]
    [InlineData("a\u2028b", "must not contain U+2028")]
    [InlineData("a\u200Db", "must not contain U+200D")]
    [InlineData("a\u00ADb", "must not contain U+00AD")]
    [InlineData("a\uFFFEb", "must not contain U+FFFE")]
    [InlineData("a\u0378b", "must not contain U+0378")]
    [InlineData(".", "must not be '.' or '..'")]
    [InlineData("..", "must not be '.' or '..'")]
    public void IsValidKey_RejectsSlashesWhitespaceControlAndFormatCharacters(string key, string reason)
    {
        Assert.False(ConfigNames.IsValidKey(key, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsValidKey_RejectsUnpairedSurrogates()
    {
        Assert.False(ConfigNames.IsValidKey("a\uD800b", out var error));
        Assert.Contains("unpaired surrogate", error, StringComparison.Ordinal);
        Assert.False(ConfigNames.IsValidKey("a\uDC00", out _));
    }

    [Fact]
    public void IsValidKey_CountsCharactersNotUtf16Units()
    {
        var fiveHundredEmoji = string.Concat(Enumerable.Repeat("🚀", 500));
        Assert.Equal(1000, fiveHundredEmoji.Length);
        Assert.True(ConfigNames.IsValidKey(fiveHundredEmoji, out var error), error);
        Assert.True(ConfigNames.IsValidKey(new string('k', 500), out error), error);
        Assert.False(ConfigNames.IsValidKey(new string('k', 501), out error));
        Assert.Contains("at most 500", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ListsEveryInvalidPart()
    {
        var e = Assert.Throws<KeelException>(() => ConfigNames.Validate(new ConfigId("Bad", "", "ok")));

        Assert.Equal(KeelError.InvalidName, e.Error);
        Assert.Equal(["service_name", "environment"], e.FieldErrors.Select(f => f.Path));
    }

    [Fact]
    public void Validate_PassesAValidId()
    {
        ConfigNames.Validate(new ConfigId("svc", "prod", "db.url"));
        ConfigNames.Validate("svc", "prod");
    }
}
