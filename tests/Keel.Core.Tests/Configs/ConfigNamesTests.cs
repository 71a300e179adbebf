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

    [Theory]
    [InlineData("cafe\u0301")]
    [InlineData("A\u030A")]
    [InlineData("\u212B")]
    [InlineData("\u2126")]
    [InlineData("\u1100\u1161")]
    [InlineData("\uAC00\u11A8")]
    [InlineData("a\u0301\u0316")]
    [InlineData("\u1E0B\u0323")]
    [InlineData("\u0958")]
    [InlineData("\u0344")]
    [InlineData("\U00011099\U000110BA")]
    public void IsWritableKey_RefusesAValidKeyNotInNfc_SayingToNormalizeIt(string key)
    {
        Assert.True(ConfigNames.IsValidKey(key, out var error), error);

        Assert.False(ConfigNames.IsWritableKey(key, out error));
        Assert.StartsWith("config_key", error, StringComparison.Ordinal);
        Assert.Contains("Normalization Form C (NFC)", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("db.pool.size")]
    [InlineData("caf\u00E9")]
    [InlineData("x\u0301")]
    [InlineData("\u00C5")]
    [InlineData("\u03A9")]
    [InlineData("\uAC00")]
    [InlineData("\uAC01")]
    [InlineData("\u00E1\u0316")]
    [InlineData("\u0915\u093C")]
    [InlineData("\u1E0D\u0307")]
    [InlineData("\U0001109A")]
    [InlineData("\u0301")]
    [InlineData("\u0308\u0301")]
    [InlineData("\u0436\u0443\u0440\u043D\u0430\u043B")]
    [InlineData("\u65E5\u672C\u8A9E")]
    [InlineData("rocket-\U0001F680")]
    [InlineData("\u1100\u1100")]
    public void IsWritableKey_AcceptsKeysInNfc(string key)
    {
        Assert.True(ConfigNames.IsWritableKey(key, out var error), error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("export")]
    [InlineData("a\u200Bb")]
    public void IsWritableKey_RefusesWhatIsValidKeyRefuses(string key)
    {
        Assert.False(ConfigNames.IsValidKey(key, out var expected));

        Assert.False(ConfigNames.IsWritableKey(key, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void ValidateForWrite_RefusesAKeyNotInNfc_AndValidateLetsItBeRead()
    {
        var id = new ConfigId("svc", "prod", "cafe\u0301");

        ConfigNames.Validate(id);
        var e = Assert.Throws<KeelException>(() => ConfigNames.ValidateForWrite(id));

        Assert.Equal(KeelError.InvalidName, e.Error);
        Assert.Equal(["config_key"], e.FieldErrors.Select(f => f.Path));
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
