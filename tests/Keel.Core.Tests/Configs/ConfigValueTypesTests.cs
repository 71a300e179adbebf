// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Core.Tests.Configs;

public class ConfigValueTypesTests
{
    [Fact]
    public void WireNames_RoundTripEveryType()
    {
        foreach (var type in Enum.GetValues<ConfigValueType>())
        {
            Assert.True(ConfigValueTypes.TryParse(type.ToWireName(), out var parsed));
            Assert.Equal(type, parsed);
            Assert.Equal(type, ConfigValueTypes.ParseStored(type.ToWireName()));
        }

        Assert.Equal(["string", "number", "boolean", "json", "yaml"], ConfigValueTypes.WireNames);
    }

    [Theory]
    [InlineData("String")]
    [InlineData("int")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_RejectsUnknownNames(string? name) => Assert.False(ConfigValueTypes.TryParse(name, out _));

    [Fact]
    public void ParseStored_ThrowsForAnUnknownName() =>
        Assert.Throws<InvalidDataException>(() => ConfigValueTypes.ParseStored("float"));

    [Fact]
    public void ChangeTypes_RoundTripEveryType()
    {
        foreach (var type in Enum.GetValues<ChangeType>())
        {
            Assert.Equal(type, ChangeTypes.ParseStored(type.ToWireName()));
        }

        Assert.Equal(["create", "update", "delete", "rollback"], Enum.GetValues<ChangeType>().Select(t => t.ToWireName()));
    }
}
