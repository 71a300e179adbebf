// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Keel.Core.Configs;

/// <summary>
/// Reads one YAML document as the JSON document it means under YAML 1.2's core schema: plain <c>true</c>/<c>false</c> are
/// booleans, plain <c>null</c>/<c>~</c>/empty are null, plain scalars in JSON number syntax are numbers, everything else is a
/// string (so <c>yes</c>, <c>0o14</c> and <c>.inf</c> are strings). Aliases are refused: one alias can stand for an unbounded
/// amount of text.
/// </summary>
static class YamlJson
{
    public const int MaxDepth = 128;

    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = MaxDepth + 1 };

    /// <summary>The JSON of a YAML document; an empty document is <c>{}</c> when a mapping is required, else <c>null</c>.</summary>
    /// <exception cref="YamlJsonException">The text is not one YAML document that JSON can show.</exception>
    public static ReadOnlyMemory<byte> Convert(string text, bool requireMapping)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, text.Length));
        try
        {
            using var json = new Utf8JsonWriter(buffer, WriterOptions);
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                WriteEmpty(json, requireMapping);
                json.Flush();
                return buffer.WrittenMemory;
            }

            parser.Consume<DocumentStart>();
            if (parser.Accept<DocumentEnd>(out _))
            {
                WriteEmpty(json, requireMapping);
            }
            else
            {
                if (requireMapping && !parser.Accept<MappingStart>(out _))
                {
                    throw new YamlJsonException("$", "The file must hold a mapping of keys at the top.");
                }

                WriteNode(parser, json, "$", 0);
            }

            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                throw new YamlJsonException("$", "The text holds more than one YAML document.");
            }

            json.Flush();
            return buffer.WrittenMemory;
        }
        catch (YamlException e)
        {
            // The parser's message can quote the text, which may be a secret; the position is enough.
            throw new YamlJsonException(
                string.Create(CultureInfo.InvariantCulture, $"line {e.Start.Line}, column {e.Start.Column}"), "The text is not valid YAML here.");
        }
        catch (ArgumentException)
        {
            throw new YamlJsonException("$", "The text holds a string that is not valid Unicode (an escaped unpaired surrogate).");
        }
        catch (InvalidOperationException e) when (e.Source == "YamlDotNet")
        {
            // YamlDotNet's scanner fails this way, rather than with a YamlException, on some malformed text (":\0{\rr").
            throw new YamlJsonException("$", "The text is not valid YAML.");
        }
    }

    /// <summary><c>$.a.b</c> for plain names, <c>$['a.b']</c> for names a dotted path cannot show.</summary>
    public static string PathOf(string parent, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? parent + "." + name
            : parent + "['" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";

    static void WriteEmpty(Utf8JsonWriter json, bool requireMapping)
    {
        if (requireMapping)
        {
            json.WriteStartObject();
            json.WriteEndObject();
        }
        else
        {
            json.WriteNullValue();
        }
    }

    static void WriteNode(IParser parser, Utf8JsonWriter json, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new YamlJsonException(path, $"The text nests deeper than {MaxDepth} levels.");
        }

        switch (parser.Current)
        {
            case AnchorAlias alias:
                throw new YamlJsonException(path, $"YAML aliases (*{alias.Value}) are not supported; write the value out in full.");
            case Scalar scalar:
                parser.MoveNext();
                WriteScalar(scalar, json);
                return;
            case SequenceStart:
                parser.MoveNext();
                json.WriteStartArray();
                for (var i = 0; !parser.TryConsume<SequenceEnd>(out _); i++)
                {
                    WriteNode(parser, json, string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), depth + 1);
                }

                json.WriteEndArray();
                return;
            case MappingStart:
                parser.MoveNext();
                json.WriteStartObject();
                var names = new HashSet<string>(StringComparer.Ordinal);
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    if (parser.Current is not Scalar key)
                    {
                        throw new YamlJsonException(path, parser.Current is AnchorAlias
                            ? "YAML aliases are not supported as keys; write the key out."
                            : "Mapping keys must be plain text, not mappings or sequences.");
                    }

                    parser.MoveNext();
                    var childPath = PathOf(path, key.Value);
                    if (!names.Add(key.Value))
                    {
                        throw new YamlJsonException(childPath, string.Create(
                            CultureInfo.InvariantCulture, $"The key appears more than once in this mapping (line {key.Start.Line})."));
                    }

                    json.WritePropertyName(key.Value);
                    WriteNode(parser, json, childPath, depth + 1);
                }

                json.WriteEndObject();
                return;
            default:
                throw new YamlJsonException(path, "The text is not valid YAML here.");
        }
    }

    static void WriteScalar(Scalar scalar, Utf8JsonWriter json)
    {
        var text = scalar.Value;
        var plain = scalar.Style == ScalarStyle.Plain && (scalar.Tag.IsEmpty || scalar.Tag.IsNonSpecific);
        if (!plain)
        {
            json.WriteStringValue(text);
        }
        else if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            json.WriteNullValue();
        }
        else if (text is "true" or "True" or "TRUE")
        {
            json.WriteBooleanValue(true);
        }
        else if (text is "false" or "False" or "FALSE")
        {
            json.WriteBooleanValue(false);
        }
        else if (ConfigValues.IsValid(ConfigValueType.Number, text, out _))
        {
            json.WriteRawValue(text, skipInputValidation: true);
        }
        else
        {
            json.WriteStringValue(text);
        }
    }
}

/// <summary>A YAML text that <see cref="YamlJson"/> cannot read, with where and why.</summary>
sealed class YamlJsonException(string path, string message) : Exception(message)
{
    public string Path { get; } = path;
}
