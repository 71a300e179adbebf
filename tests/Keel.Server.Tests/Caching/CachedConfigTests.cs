// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Server.Caching;

namespace Keel.Server.Tests.Caching;

/// <summary>A cached lookup keeps its value once, in the rendered answer, and gives back the very entry it was made from.</summary>
public class CachedConfigTests
{
    static readonly ConfigId Key = new("svc", "prod", "key");

    public static TheoryData<string, ConfigValueType> Values => new()
    {
        { "plain", ConfigValueType.String },
        { string.Empty, ConfigValueType.String },
        { "quote \" backslash \\ tab \t newline \n control \u0001 slash / <tag> & 'apostrophe'", ConfigValueType.String },
        { "ünïcødé, 日本語, emoji 🚀, U+2028 \u2028 and U+2029 \u2029", ConfigValueType.String },
        { "42.5", ConfigValueType.Number },
        { "true", ConfigValueType.Boolean },
        { """{"a": [1, 2, {"b": null}], "c": "d"}""", ConfigValueType.Json },
        { "a:\n  - 1\n  - two\n", ConfigValueType.Yaml },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Entry_IsTheEntryItWasMadeFrom(string value, ConfigValueType type)
    {
        var entry = Entry(Key, value, type);

        var cached = new CachedConfig(Key, entry);

        Assert.Equal(entry, cached.Entry);
        Assert.Equal(entry.Version, cached.Version);
        Assert.True(cached.Exists);
        Assert.Same(cached.Answer, cached.RevealedAnswer);
        Assert.Equal(value, JsonDocument.Parse(cached.Answer!).RootElement.GetProperty("config_value").GetString());
    }

    [Fact]
    public void ASecret_IsMaskedInTheAnswer_AndWholeInTheRevealedAnswerAndTheEntry()
    {
        var entry = Entry(Key, "s3cr3t-value", ConfigValueType.String) with { IsEncrypted = true };

        var cached = new CachedConfig(Key, entry);

        Assert.Equal(entry, cached.Entry);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(cached.Answer!).RootElement.GetProperty("config_value").ValueKind);
        Assert.Equal(-1, cached.Answer.AsSpan().IndexOf("s3cr3t-value"u8));
        Assert.Equal("s3cr3t-value", JsonDocument.Parse(cached.RevealedAnswer!).RootElement.GetProperty("config_value").GetString());
    }

    [Fact]
    public void ASecretThatFailedToDecrypt_HasNoValueAnywhere_AndSaysSo()
    {
        var entry = Entry(Key, string.Empty, ConfigValueType.String) with { IsEncrypted = true, DecryptionFailed = true };

        var cached = new CachedConfig(Key, entry);

        Assert.True(cached.DecryptionFailed);
        Assert.Equal(entry, cached.Entry);
        Assert.Same(cached.Answer, cached.RevealedAnswer);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(cached.Answer!).RootElement.GetProperty("config_value").ValueKind);
    }

    [Fact]
    public void AnAbsentKey_HasNoEntryAndNoAnswer()
    {
        var cached = new CachedConfig(Key, null);

        Assert.False(cached.Exists);
        Assert.Null(cached.Entry);
        Assert.Null(cached.Answer);
        Assert.Equal(0, cached.Version);
    }

    [Fact]
    public void AConfigEntry_IsReadBackEachTime_WhileAFlagKeepsItsEntry()
    {
        var config = new CachedConfig(Key, Entry(Key, "v", ConfigValueType.String));
        var flagId = FlagStorage.Id("svc", "prod", "new-checkout");
        var flag = new CachedConfig(flagId, Entry(flagId, """{"state":"ENABLED"}""", ConfigValueType.Json));

        Assert.NotSame(config.Entry, config.Entry);
        Assert.Same(flag.Entry, flag.Entry);
    }

    [Fact]
    public void Bytes_CountTheValueOnce()
    {
        var value = new string('v', 10_000);

        var cached = new CachedConfig(Key, Entry(Key, value, ConfigValueType.String));

        // The UTF-8 answer holds the value's 10,000 bytes; a second copy, as UTF-16, would add 20,000.
        Assert.InRange(cached.Bytes, 10_000, 11_000);
    }

    static ConfigEntry Entry(ConfigId id, string value, ConfigValueType type) => new()
    {
        Id = id,
        Value = value,
        ValueType = type,
        Version = 7,
        CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567),
        UpdatedAt = new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero).AddTicks(10),
        UpdatedBy = "deploy-bot",
        Revision = 4242,
    };
}
