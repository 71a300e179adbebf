// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;
using System.Text.Json;
using CsCheck;
using Keel.Core.Configs;
using Keel.Core.Transfer;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Keel.Tests.Fuzzing;

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

    static readonly string[] Seeds =
    [
        """{"a": {"b": [1, 2.5e3, true, null, "x"]}, "c": "d"}""",
        "a: 1\nb:\n  - x\n  - {c: d}\ne: |\n  multi\n  line\n",
        "# comment\nDB_URL=postgres://x\nexport NAME=\"quoted value\"\nEMPTY=\nMULTI='a\nb'\n",
        """{"Logging": {"LogLevel": {"Default": "Warning"}}, "Keys": ["a", "b"]}""",
        """{"flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": {"if": [{"in": ["@x.com", {"var": "email"}]}, "on", {"fractional": [{"var": "id"}, ["on", 50], ["off", 50]]}]}}}}""",
        """{"if": [{"sem_ver": [{"var": "v"}, ">=", "1.2.0"]}, "a", {"starts_with": [{"var": "s"}, "x"]}]}""",
    ];

    static readonly Gen<string> Input = FuzzInput.TextAndMutationsOf(Seeds);

    [Fact]
    public void TypedValues_AreValidOrSayWhy_ForEveryType()
    {
        FuzzInput.Replay("values", Check);
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
        FuzzInput.Replay("files", Check);
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
        FuzzInput.Replay("flags", Check);
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
}
