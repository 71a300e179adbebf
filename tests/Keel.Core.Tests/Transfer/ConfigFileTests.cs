// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using Keel.Core.Configs;
using Keel.Core.Transfer;

namespace Keel.Core.Tests.Transfer;

public class ConfigFileTests
{
    static readonly ConfigFileLimits Limits = new(MaxKeys: 1000, MaxValueBytes: 1024);

    static readonly ConfigEntry[] EveryType =
    [
        Entry("app.name", "checkout", ConfigValueType.String),
        Entry("app.port", "8080", ConfigValueType.Number),
        Entry("app.ratio", "1.50", ConfigValueType.Number),
        Entry("app.debug", "false", ConfigValueType.Boolean),
        Entry("app.quoted-number", "8080", ConfigValueType.String),
        Entry("app.quoted-true", "true", ConfigValueType.String),
        Entry("app.empty", "", ConfigValueType.String),
        Entry("app.tricky", "it's \"quoted\" # not a comment\\n", ConfigValueType.String),
        Entry("app.multiline", "line one\nline two\r\n\ttabbed", ConfigValueType.String),
        Entry("app.unicode", "日本語 ✓ 🚀", ConfigValueType.String),
        Entry("limits", """{"cpu":2,"tags":["a",null],"nested":{"x":"y"},"empty":{}}""", ConfigValueType.Json),
        Entry("hosts", """["a","b"]""", ConfigValueType.Json),
        Entry("json-string", "\"just text\"", ConfigValueType.Json),
        Entry("json-number", "42", ConfigValueType.Json),
        Entry("manifest", "a: 1\nb:\n  - x\n", ConfigValueType.Yaml),
        Entry("Key.With:Colons", "v", ConfigValueType.String),
        Entry("a", "short", ConfigValueType.String),
        Entry("a.b", "long", ConfigValueType.String),
    ];

    [Theory]
    [InlineData(ConfigFileFormat.Json)]
    [InlineData(ConfigFileFormat.Yaml)]
    [InlineData(ConfigFileFormat.Env)]
    public async Task Export_ThenImport_OverTheSameKeys_IsANoOp(ConfigFileFormat format)
    {
        var file = await ExportAsync(format, EveryType);

        var read = ConfigFileReader.Read(format, file, Limits, LiveTypes(EveryType));
        var plan = ImportPlan.Create(read, EveryType, prune: true, canReadSecrets: true);

        Assert.Equal(EveryType.Length, read.Count);
        Assert.Empty(plan.Added);
        Assert.Empty(plan.Changed);
        Assert.Empty(plan.Removed);
        Assert.Equal(EveryType.Length, plan.Unchanged);
    }

    [Theory]
    [InlineData(ConfigFileFormat.Json)]
    [InlineData(ConfigFileFormat.Yaml)]
    public async Task Export_ThenImport_IntoAnEmptyEnvironment_KeepsEveryTypeThatTheFormatShows(ConfigFileFormat format)
    {
        var file = await ExportAsync(format, EveryType);

        var read = ConfigFileReader.Read(format, file, Limits, _ => null).ToDictionary(e => e.Key);

        Assert.Equal(("8080", ConfigValueType.Number), (read["app.port"].Value, read["app.port"].ValueType));
        Assert.Equal(("8080", ConfigValueType.String), (read["app.quoted-number"].Value, read["app.quoted-number"].ValueType));
        Assert.Equal(("true", ConfigValueType.String), (read["app.quoted-true"].Value, read["app.quoted-true"].ValueType));
        Assert.Equal(ConfigValueType.Boolean, read["app.debug"].ValueType);
        Assert.Equal("line one\nline two\r\n\ttabbed", read["app.multiline"].Value);
        Assert.Equal("""["a","b"]""", read["hosts"].Value);
        Assert.Equal(ConfigValueType.Json, read["hosts"].ValueType);

        // Without a json key to read it as, an object in the file is more keys.
        Assert.Equal(("2", ConfigValueType.Number), (read["limits.cpu"].Value, read["limits.cpu"].ValueType));
        Assert.Equal(("{}", ConfigValueType.Json), (read["limits.empty"].Value, read["limits.empty"].ValueType));
    }

    [Fact]
    public void Json_NestedObjects_AreFlattenedToDottedKeys_ArraysStayWhole()
    {
        var read = Read(ConfigFileFormat.Json, """{"db": {"host": "h", "port": 5432, "replicas": ["r1", "r2"], "tls": {"on": true}}, "name": "x"}""");

        Assert.Equal(
            [("db.host", "h", ConfigValueType.String, "$.db.host"), ("db.port", "5432", ConfigValueType.Number, "$.db.port"),
                ("db.replicas", """["r1","r2"]""", ConfigValueType.Json, "$.db.replicas"), ("db.tls.on", "true", ConfigValueType.Boolean, "$.db.tls.on"),
                ("name", "x", ConfigValueType.String, "$.name")],
            read.Select(e => (e.Key, e.Value, e.ValueType, e.Location)));
    }

    [Fact]
    public void AppSettings_TakesCommentsAndTrailingCommas_JsonDoesNot()
    {
        const string file = """
            {
              // The connection
              "Logging": { "LogLevel": { "Default": "Warning", }, },
              /* more */ "AllowedHosts": "*",
            }
            """;

        var read = Read(ConfigFileFormat.AppSettings, file);
        var e = Assert.Throws<KeelException>(() => Read(ConfigFileFormat.Json, file));

        Assert.Equal(["Logging.LogLevel.Default", "AllowedHosts"], read.Select(r => r.Key));
        Assert.Equal(KeelError.InvalidFile, e.Error);
        Assert.StartsWith("line 2", e.FieldErrors[0].Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_UsesTheCoreSchema_ForPlainScalars_AndQuotesMakeStrings()
    {
        var read = Read(ConfigFileFormat.Yaml, """
            service:
              port: 8080
              ratio: -1.5e3
              enabled: true
              legacy: yes
              version: "2"
              octal: 0o14
              name: checkout
              hosts: [a, b]
              block: |
                line one
                line two
            """).ToDictionary(e => e.Key);

        Assert.Equal(("8080", ConfigValueType.Number), (read["service.port"].Value, read["service.port"].ValueType));
        Assert.Equal(("-1.5e3", ConfigValueType.Number), (read["service.ratio"].Value, read["service.ratio"].ValueType));
        Assert.Equal(ConfigValueType.Boolean, read["service.enabled"].ValueType);
        Assert.Equal(("yes", ConfigValueType.String), (read["service.legacy"].Value, read["service.legacy"].ValueType));
        Assert.Equal(("2", ConfigValueType.String), (read["service.version"].Value, read["service.version"].ValueType));
        Assert.Equal(ConfigValueType.String, read["service.octal"].ValueType);
        Assert.Equal(("""["a","b"]""", ConfigValueType.Json), (read["service.hosts"].Value, read["service.hosts"].ValueType));
        Assert.Equal("line one\nline two", read["service.block"].Value);
    }

    [Theory]
    [InlineData("base: &b {x: 1}\nother: *b\n", "$.other", "aliases")]
    [InlineData("a: 1\n---\nb: 2\n", "$", "more than one YAML document")]
    [InlineData("- a\n- b\n", "$", "mapping")]
    [InlineData("a: 1\na: 2\n", "$.a", "more than once")]
    [InlineData("a: [1\n", "line", "not valid YAML")]
    [InlineData("a: ~\n", "$.a", "null")]
    [InlineData("? [x]\n: 1\n", "$", "plain text")]
    public void Yaml_RefusesWhatItCannotImport_NamingWhere(string file, string path, string message)
    {
        var e = Assert.Throws<KeelException>(() => Read(ConfigFileFormat.Yaml, file));

        Assert.Equal(KeelError.InvalidFile, e.Error);
        Assert.StartsWith(path, e.FieldErrors[0].Path, StringComparison.Ordinal);
        Assert.Contains(message, e.FieldErrors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Env_ReadsQuotesEscapesCommentsAndExport()
    {
        var read = Read(ConfigFileFormat.Env, """
            # a comment
            export DATABASE_URL=postgres://db:5432/app
            PLAIN=value with spaces # and a comment
            HASH=a#b
            SINGLE='literal \n $HOME'
            DOUBLE="tab\there \"q\" \\"
            MULTI="first
            second"
            EMPTY=

            """).ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal("postgres://db:5432/app", read["DATABASE_URL"]);
        Assert.Equal("value with spaces", read["PLAIN"]);
        Assert.Equal("a#b", read["HASH"]);
        Assert.Equal("literal \\n $HOME", read["SINGLE"]);
        Assert.Equal("tab\there \"q\" \\", read["DOUBLE"]);
        Assert.Equal("first\nsecond", read["MULTI"]);
        Assert.Equal("", read["EMPTY"]);
    }

    [Fact]
    public void Env_ListsEveryBadLine()
    {
        var e = Assert.Throws<KeelException>(() => Read(ConfigFileFormat.Env, "GOOD=1\nno equals here\nA B=1\nGOOD=2\nOPEN=\"never closed\n"));

        Assert.Equal(
            [("line 2", "Expected KEY=value."), ("line 3", null), ("line 4", "Key 'GOOD' appears again; it is first at line 1."), ("line 5", null)],
            e.FieldErrors.Select(f => (f.Path, f.Path is "line 2" or "line 4" ? f.Message : null)));
    }

    [Fact]
    public void ExistingKeys_KeepTheirType_WhenTheFileValueFitsIt()
    {
        ConfigEntry[] live =
        [
            Entry("port", "1", ConfigValueType.Number),
            Entry("limits", """{"a":1}""", ConfigValueType.Json),
            Entry("name", "x", ConfigValueType.String),
            Entry("flag", "true", ConfigValueType.Boolean),
        ];

        var read = Read(ConfigFileFormat.Json, """{"port": "not a number", "limits": {"a": 2, "b": [1]}, "name": 5, "flag": "false"}""", live)
            .ToDictionary(e => e.Key);

        Assert.Equal(("not a number", ConfigValueType.String), (read["port"].Value, read["port"].ValueType));
        Assert.Equal(("""{"a":2,"b":[1]}""", ConfigValueType.Json), (read["limits"].Value, read["limits"].ValueType));
        Assert.Equal(("5", ConfigValueType.String), (read["name"].Value, read["name"].ValueType));
        Assert.Equal(("false", ConfigValueType.Boolean), (read["flag"].Value, read["flag"].ValueType));
    }

    [Fact]
    public void BadKeysValuesAndDuplicates_AreAllListed()
    {
        var big = new string('x', 2000);
        var e = Assert.Throws<KeelException>(() => Read(ConfigFileFormat.Json, $$"""{"a": {"b": 1}, "a.b": 2, "bad key": 1, "n": null, "big": "{{big}}"}"""));

        Assert.Equal(["$['a.b']", "$['bad key']", "$.n", "$.big"], e.FieldErrors.Select(f => f.Path));
        Assert.Contains("appears again", e.FieldErrors[0].Message, StringComparison.Ordinal);
        Assert.Contains("1024 bytes", e.FieldErrors[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MoreKeysThanTheLimit_IsTooLarge()
    {
        var file = "{" + string.Join(",", Enumerable.Range(0, 11).Select(i => $"\"k{i}\": 1")) + "}";

        var e = Assert.Throws<KeelException>(
            () => ConfigFileReader.Read(ConfigFileFormat.Json, Encoding.UTF8.GetBytes(file), new ConfigFileLimits(10, 1024), _ => null));

        Assert.Equal(KeelError.PayloadTooLarge, e.Error);
    }

    [Fact]
    public void InvalidUtf8_AndAByteOrderMark_AreHandled()
    {
        var bom = ConfigFileReader.Read(ConfigFileFormat.Json, (byte[])[0xEF, 0xBB, 0xBF, .. "{\"a\":1}"u8], Limits, _ => null);
        var e = Assert.Throws<KeelException>(() => ConfigFileReader.Read(ConfigFileFormat.Env, (byte[])[(byte)'A', (byte)'=', 0xFF], Limits, _ => null));

        Assert.Equal("a", Assert.Single(bom).Key);
        Assert.Contains("UTF-8", e.FieldErrors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ReportsAddedChangedRemovedAndUnchanged_AndJsonComparesAsJson()
    {
        ConfigEntry[] live =
        [
            Entry("same", "1", ConfigValueType.Number),
            Entry("json", """{"a": 1, "b": 2}""", ConfigValueType.Json),
            Entry("changed", "old", ConfigValueType.String),
            Entry("retyped", "1", ConfigValueType.String),
            Entry("gone", "x", ConfigValueType.String),
            Entry("secret", "s", ConfigValueType.String, encrypted: true),
        ];
        FileEntry[] file =
        [
            new("same", "1", ConfigValueType.Number, "$.same"),
            new("json", """{"b":2,"a":1}""", ConfigValueType.Json, "$.json"),
            new("changed", "new", ConfigValueType.String, "$.changed"),
            new("retyped", "1", ConfigValueType.Number, "$.retyped"),
            new("new", "n", ConfigValueType.String, "$.new"),
        ];

        var plan = ImportPlan.Create(file, live, prune: true, canReadSecrets: true);
        var withoutSecrets = ImportPlan.Create([.. file, new("secret", "s", ConfigValueType.String, "$.secret")], live, prune: true, canReadSecrets: false);
        var withoutPrune = ImportPlan.Create(file, live, prune: false, canReadSecrets: true);

        Assert.Equal(["new"], plan.Added);
        Assert.Equal(["changed", "retyped"], plan.Changed);
        Assert.Equal(["gone", "secret"], plan.Removed);
        Assert.Equal(2, plan.Unchanged);
        Assert.Equal(["changed", "retyped", "new", "gone", "secret"], plan.Items.Select(i => i.Key));
        Assert.Null(plan.Items[^1].Value);

        // Without secrets:read, an encrypted key is written even when equal (no oracle) and never pruned.
        Assert.Equal(["changed", "retyped", "secret"], withoutSecrets.Changed);
        Assert.Equal(["gone"], withoutSecrets.Removed);
        Assert.Empty(withoutPrune.Removed);
    }

    [Theory]
    [InlineData(ConfigFileFormat.Json)]
    [InlineData(ConfigFileFormat.Yaml)]
    [InlineData(ConfigFileFormat.Env)]
    public async Task Write_HandsTheFileToTheStreamInPieces_NeverWhole(ConfigFileFormat format)
    {
        var entries = Enumerable.Range(0, 2_000).Select(i => Entry($"key{i:D4}", new string('v', 1_000), ConfigValueType.String)).ToList();
        var output = new RecordingStream();

        await ConfigFileWriter.WriteAsync(format, entries, output, TestContext.Current.CancellationToken);

        Assert.True(output.Writes.Count > 10, $"{output.Writes.Count} writes");
        Assert.True(output.Writes.Max() < 80 * 1024, $"a write of {output.Writes.Max()} bytes");
        Assert.Equal(entries.Count, ConfigFileReader.Read(format, output.ToArray(), new ConfigFileLimits(MaxKeys: 10_000, MaxValueBytes: 10_000), _ => null).Count);
    }

    [Fact]
    public async Task Write_OfAKeyEnvCannotHold_FailsBeforeWritingAnything()
    {
        var output = new RecordingStream();

        await Assert.ThrowsAsync<KeelException>(() => ConfigFileWriter.WriteAsync(
            ConfigFileFormat.Env, [Entry("a", "1", ConfigValueType.String), Entry("b=c", "2", ConfigValueType.String)], output, TestContext.Current.CancellationToken));

        Assert.Empty(output.Writes);
    }

    [Fact]
    public void Plan_WithoutSecretsRead_NeverComparesAnEncryptedValue()
    {
        // A stored value that is not JSON makes any comparison as JSON throw: a plan that compares it is caught in the act.
        ConfigEntry[] live = [Entry("secret", "not json", ConfigValueType.Json, encrypted: true)];
        FileEntry[] file = [new("secret", """{"a": 1}""", ConfigValueType.Json, "$.secret")];

        var plan = ImportPlan.Create(file, live, prune: false, canReadSecrets: false);

        Assert.Equal(["secret"], plan.Changed);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => ImportPlan.Create(file, live, prune: false, canReadSecrets: true));
    }

    /// <summary>A memory stream that records the size of every write it is given.</summary>
    sealed class RecordingStream : MemoryStream
    {
        public List<int> Writes { get; } = [];

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes.Add(buffer.Length);
            base.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Writes.Add(count);
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }
    }

    static async Task<ReadOnlyMemory<byte>> ExportAsync(ConfigFileFormat format, IEnumerable<ConfigEntry> entries)
    {
        using var output = new MemoryStream();
        await ConfigFileWriter.WriteAsync(format, entries, output, TestContext.Current.CancellationToken);
        return output.ToArray();
    }

    static IReadOnlyList<FileEntry> Read(ConfigFileFormat format, string file, IEnumerable<ConfigEntry>? live = null) =>
        ConfigFileReader.Read(format, Encoding.UTF8.GetBytes(file), Limits, LiveTypes(live ?? []));

    static Func<string, ConfigValueType?> LiveTypes(IEnumerable<ConfigEntry> live)
    {
        var types = live.ToDictionary(e => e.Id.Key, e => e.ValueType, StringComparer.Ordinal);
        return key => types.TryGetValue(key, out var type) ? type : null;
    }

    static ConfigEntry Entry(string key, string value, ConfigValueType type, bool encrypted = false) => new()
    {
        Id = new ConfigId("svc", "dev", key),
        Value = value,
        ValueType = type,
        Version = 1,
        IsEncrypted = encrypted,
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
        UpdatedBy = "test",
        Revision = 1,
    };
}
