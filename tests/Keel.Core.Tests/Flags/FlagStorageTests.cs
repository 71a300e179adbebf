// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Flags;

namespace Keel.Core.Tests.Flags;

public sealed class FlagStorageTests
{
    [Fact]
    public void FlagDefinitions_NestNoDeeperThanAStoredValue()
    {
        Assert.Equal(ConfigValues.MaxNestingDepth, FlagDefinitions.MaxDepth);
    }

    [Fact]
    public void Environment_OfFlagsOrOfConfiguration_RoundTripsThroughPublicEnvironment()
    {
        var flags = FlagStorage.Environment("prod", flags: true);
        var config = FlagStorage.Environment("prod", flags: false);

        Assert.Equal(FlagStorage.Environment("prod"), flags);
        Assert.True(FlagStorage.IsFlagEnvironment(flags));
        Assert.Equal("prod", config);
        Assert.False(FlagStorage.IsFlagEnvironment(config));
        Assert.Equal("prod", FlagStorage.PublicEnvironment(flags));
        Assert.Equal("prod", FlagStorage.PublicEnvironment(config));
    }

    [Theory]
    [InlineData("export")]
    [InlineData("new-checkout")]
    [InlineData("e\u0301")]
    public void KeyRule_TakesEveryValidKey_NfcOrNot(string key)
    {
        Assert.True(FlagStorage.KeyRule(key, out var error), error);
    }

    [Fact]
    public void KeyRule_RefusesAnInvalidKey_NamingItTheKey()
    {
        Assert.False(FlagStorage.KeyRule("a/b", out var error));
        Assert.StartsWith("the key must not contain '/'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void WritableKeyRule_RefusesAKeyNotInNfc_NamingItTheKey()
    {
        Assert.True(FlagStorage.WritableKeyRule("export", out var error), error);

        Assert.False(FlagStorage.WritableKeyRule("e\u0301", out error));
        Assert.StartsWith("the key is not in Unicode Normalization Form C (NFC)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void WritableKeyRule_InAFile_RefusesTheFlag_WhereItIs()
    {
        using var file = JsonDocument.Parse("""{"flags": {"e\u0301": {"state": "ENABLED", "variants": {"on": true}}}}""");

        var e = Assert.Throws<FlagDefinitionException>(() => FlagDefinitions.ParseFile(file.RootElement, keyRule: FlagStorage.WritableKeyRule));

        var error = Assert.Single(e.FieldErrors);
        Assert.Equal("$.flags['e\u0301']", error.Path);
        Assert.StartsWith("The flag key is not valid: the key is not in Unicode Normalization Form C (NFC)", error.Message, StringComparison.Ordinal);
    }
}
