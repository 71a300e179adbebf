// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;
using CsCheck;
using Keel.Core.Configs;
using Keel.Core.Transfer;
using Keel.Flags;
using Keel.Flags.JsonLogic;

namespace Keel.Core.Tests.Fuzzing;

/// <summary>
/// Every parser of untrusted text, fed generated and mutated input: each answers a value or its own documented error, never
/// another exception. Inputs that once broke a parser are kept in <c>Fuzzing/Corpus</c> and replayed first.
/// </summary>
public sealed class ParserFuzzTests
{
    /// <summary>Generated inputs per parser and run; each property runs this many on every CI build.</summary>
    const int Iterations = 3000;

    static readonly ConfigFileLimits FileLimits = new(MaxKeys: 1000, MaxValueBytes: 64 * 1024);

    // Structure characters weigh heavily, so that generated text reaches deep into each grammar; the rest covers letters,
    // digits, whitespace, controls, NUL, non-ASCII and both halves of surrogate pairs.
    static readonly Gen<char> Chars = Gen.Frequency(
        (6, Gen.Char["{}[]\":,'\n\r\t -#=&*!|>%@?.\\/$0123456789eE+"]),
        (4, Gen.Char['a', 'z']),
        (1, Gen.Char['\0', '\u001f']),
        (1, Gen.Char["éß€\u00a0\u200b\ufeff\ud83d\ude00\ud800\udfff"]));

    static readonly Gen<string> Text = Chars.Array[0, 300].Select(c => new string(c));

    static readonly string[] Seeds =
    [
        """{"a": {"b": [1, 2.5e3, true, null, "x"]}, "c": "d"}""",
        "a: 1\nb:\n  - x\n  - {c: d}\ne: |\n  multi\n  line\n",
        "# comment\nDB_URL=postgres://x\nexport NAME=\"quoted value\"\nEMPTY=\nMULTI='a\nb'\n",
        """{"Logging": {"LogLevel": {"Default": "Warning"}}, "Keys": ["a", "b"]}""",
        """{"flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"in": ["@x.com", {"var": "email"}]}, "on", {"fractional": [{"var": "id"}, ["on", 50], ["off", 50]]}]}}}}""",
        """{"if": [{"sem_ver": [{"var": "v"}, ">=", "1.2.0"]}, "a", {"starts_with": [{"var": "s"}, "x"]}]}""",
    ];

    static readonly Gen<string> Mutated = Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Int[0, 6], Text, Gen.Int, Gen.Int)
        .Select(static (seed, kind, insert, at, length) => Mutate(Seeds[seed], kind, insert, at, length));

    static readonly Gen<string> Input = Gen.Frequency((1, Text), (2, Mutated));

    [Fact]
    public void TypedValues_AreValidOrSayWhy_ForEveryType()
    {
        Replay("values", Check);
        Input.Sample(Check, iter: Iterations);

        static void Check(string value)
        {
            foreach (var type in Enum.GetValues<ConfigValueType>())
            {
                if (ConfigValues.IsValid(type, value, out var error))
                {
                    ConfigValues.ToJson(type, value, out _);
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(error));
                }
            }
        }
    }

    [Fact]
    public void ImportFiles_ReadOrAnswerInvalidFile_InEveryFormat()
    {
        Replay("files", Check);
        Input.Sample(Check, iter: Iterations);

        static void Check(string file)
        {
            foreach (var format in Enum.GetValues<ConfigFileFormat>())
            {
                try
                {
                    var entries = ConfigFileReader.Read(format, Encoding.UTF8.GetBytes(file), FileLimits, static _ => null);
                    Assert.All(entries, e => Assert.True(ConfigNames.IsValidKey(e.Key, out _), e.Key));
                }
                catch (KeelException e) when (e.Error is KeelError.InvalidFile or KeelError.PayloadTooLarge)
                {
                }
            }
        }
    }

    [Fact]
    public void FlagFiles_ParseOrAnswerFieldErrors_AndWhatParsesEvaluatesWithinItsBudget()
    {
        Replay("flags", Check);
        Input.Sample(Check, iter: Iterations);

        static void Check(string text)
        {
            // As the server reads a body: UTF-8 bytes, in which an unpaired surrogate has become U+FFFD.
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(Encoding.UTF8.GetBytes(text), new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException)
            {
                return;
            }

            using (document)
            {
                // The text as a whole flag file, and as the targeting rule of one flag.
                IReadOnlyList<FlagDefinition> flags;
                try
                {
                    flags = FlagDefinitions.ParseFile(document.RootElement, maxDefinitionBytes: 64 * 1024, maxTotalBytes: 1024 * 1024);
                }
                catch (FlagDefinitionException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    flags = [];
                }

                using var rule = JsonDocument.Parse(Encoding.UTF8.GetBytes(
                    $$"""{"state": "ENABLED", "variants": {"a": "a", "b": "b"}, "defaultVariant": "a", "targeting": {{document.RootElement.GetRawText()}}}"""));
                try
                {
                    flags = [.. flags, FlagDefinitions.Parse("rule", rule.RootElement, maxDefinitionBytes: 64 * 1024)];
                }
                catch (FlagDefinitionException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                }

                var context = LogicObject.FromJson(JsonDocument.Parse("""{"email": "a@x.com", "id": "user-1", "v": "1.2.3", "s": "xyz", "targetingKey": "k"}""").RootElement);
                foreach (var flag in flags)
                {
                    FlagEvaluator.Evaluate(flag, context, DateTimeOffset.UnixEpoch);
                }
            }
        }
    }

    /// <summary>Runs every kept input of <paramref name="target"/> through <paramref name="check"/>.</summary>
    static void Replay(string target, Action<string> check)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fuzzing", "Corpus", target);
        var inputs = Directory.GetFiles(folder);
        Assert.NotEmpty(inputs);
        foreach (var input in inputs)
        {
            check(File.ReadAllText(input));
        }
    }

    static string Mutate(string seed, int kind, string insert, int at, int length)
    {
        var position = (int)((uint)at % (uint)(seed.Length + 1));
        var span = (int)((uint)length % (uint)Math.Max(1, seed.Length - position + 1));
        return kind switch
        {
            0 => seed.Insert(position, insert),
            1 => seed.Remove(position, span),
            2 => seed.Remove(position, span).Insert(position, insert),
            3 => seed[..position],
            4 => seed + seed[position..],
            5 => new string('[', span % 200) + seed,
            _ => seed.Replace('"', insert.Length > 0 ? insert[0] : '\''),
        };
    }
}
