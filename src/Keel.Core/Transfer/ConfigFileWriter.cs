// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Keel.Core.Configs;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Keel.Core.Transfer;

/// <summary>
/// Writes keys as an export file that <see cref="ConfigFileReader"/> reads back to the same keys, values and types.
/// </summary>
/// <remarks>
/// Files are flat: one entry per key, in key order, so that no key is lost to another's nesting (<c>a</c> beside <c>a.b</c>).
/// Strings are always quoted, so that a string <c>"8080"</c> stays a string; <c>json</c> values are written as JSON (YAML) structure;
/// <c>yaml</c> values as strings.
/// </remarks>
public static class ConfigFileWriter
{
    static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 1000 };

    /// <summary>Writes <paramref name="entries"/> in <paramref name="format"/>.</summary>
    /// <param name="format">The format; <see cref="ConfigFileFormat.AppSettings"/> writes JSON.</param>
    /// <param name="entries">The keys, with their values in plaintext.</param>
    /// <param name="output">Where the file goes.</param>
    public static void Write(ConfigFileFormat format, IEnumerable<ConfigEntry> entries, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(output);
        var sorted = entries.OrderBy(e => e.Id.Key, StringComparer.Ordinal);
        switch (format)
        {
            case ConfigFileFormat.Yaml:
                WriteYaml(sorted, output);
                break;
            case ConfigFileFormat.Env:
                WriteEnv(sorted, output);
                break;
            default:
                WriteJson(sorted, output);
                break;
        }
    }

    static void WriteJson(IEnumerable<ConfigEntry> entries, IBufferWriter<byte> output)
    {
        using var json = new Utf8JsonWriter(output, JsonOptions);
        json.WriteStartObject();
        foreach (var entry in entries)
        {
            json.WritePropertyName(entry.Id.Key);
            switch (entry.ValueType)
            {
                case ConfigValueType.Number or ConfigValueType.Boolean:
                    json.WriteRawValue(entry.Value, skipInputValidation: true);
                    break;
                case ConfigValueType.Json:
                    using (var document = JsonDocument.Parse(entry.Value))
                    {
                        document.RootElement.WriteTo(json);
                    }

                    break;
                default:
                    json.WriteStringValue(entry.Value);
                    break;
            }
        }

        json.WriteEndObject();
    }

    static void WriteYaml(IEnumerable<ConfigEntry> entries, IBufferWriter<byte> output)
    {
        var text = new StringWriter();
        var emitter = new Emitter(text, new EmitterSettings().WithMaxSimpleKeyLength(1024));
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, isImplicit: true, MappingStyle.Block));
        foreach (var entry in entries)
        {
            emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, entry.Id.Key, ScalarStyle.Any, isPlainImplicit: true, isQuotedImplicit: true));
            switch (entry.ValueType)
            {
                case ConfigValueType.Number or ConfigValueType.Boolean:
                    emitter.Emit(Plain(entry.Value));
                    break;
                case ConfigValueType.Json:
                    using (var document = JsonDocument.Parse(entry.Value))
                    {
                        EmitJson(emitter, document.RootElement);
                    }

                    break;
                default:
                    emitter.Emit(Quoted(entry.Value));
                    break;
            }
        }

        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        Encoding.UTF8.GetBytes(text.ToString(), output);
    }

    static void EmitJson(IEmitter emitter, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var emptyObject = !element.EnumerateObject().Any();
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, isImplicit: true, emptyObject ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var property in element.EnumerateObject())
                {
                    emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, property.Name, ScalarStyle.DoubleQuoted, isPlainImplicit: false, isQuotedImplicit: true));
                    EmitJson(emitter, property.Value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonValueKind.Array:
                var emptyArray = element.GetArrayLength() == 0;
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, emptyArray ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in element.EnumerateArray())
                {
                    EmitJson(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValueKind.String:
                emitter.Emit(Quoted(element.GetString()!));
                break;
            default:
                emitter.Emit(Plain(element.GetRawText()));
                break;
        }
    }

    static Scalar Plain(string text) => new(AnchorName.Empty, TagName.Empty, text, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false);

    static Scalar Quoted(string text) => new(AnchorName.Empty, TagName.Empty, text, ScalarStyle.DoubleQuoted, isPlainImplicit: false, isQuotedImplicit: true);

    static void WriteEnv(IEnumerable<ConfigEntry> entries, IBufferWriter<byte> output)
    {
        var text = new StringBuilder();
        foreach (var entry in entries)
        {
            if (entry.Id.Key.Contains('=', StringComparison.Ordinal) || entry.Id.Key[0] == '#')
            {
                throw new KeelException(
                    KeelError.InvalidRequest,
                    $"Key '{entry.Id.Key}' cannot be written to a .env file, which has no way to quote a key holding '=' or starting with '#'; export as json or yaml.");
            }

            text.Append(entry.Id.Key).Append('=');
            var value = entry.Value;

            // Single quotes are literal in every .env reader; double quotes with escapes carry what they cannot.
            if (!value.Contains('\'', StringComparison.Ordinal) && !value.Contains('\n', StringComparison.Ordinal) && !value.Contains('\r', StringComparison.Ordinal))
            {
                text.Append('\'').Append(value).Append('\'');
            }
            else
            {
                text.Append('"');
                foreach (var c in value)
                {
                    text.Append(c switch
                    {
                        '\\' => "\\\\",
                        '"' => "\\\"",
                        '\n' => "\\n",
                        '\r' => "\\r",
                        _ => c.ToString(),
                    });
                }

                text.Append('"');
            }

            text.Append('\n');
        }

        Encoding.UTF8.GetBytes(text.ToString(), output);
    }
}
