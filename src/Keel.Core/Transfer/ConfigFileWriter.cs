// Copyright (c) Keel contributors. Licensed under the MIT License.

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
    /// <summary>How much a writer holds before it hands its text to the stream: a file of any size streams in pieces of this size.</summary>
    const int ChunkBytes = 64 * 1024;

    static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 1000 };

    /// <summary>Writes <paramref name="entries"/> in <paramref name="format"/> to <paramref name="output"/>, in pieces as it goes.</summary>
    /// <param name="format">The format; <see cref="ConfigFileFormat.AppSettings"/> writes JSON.</param>
    /// <param name="entries">The keys, with their values in plaintext.</param>
    /// <param name="output">Where the file goes; it is written to in pieces of about 64 KiB, never held whole.</param>
    /// <param name="cancellationToken">Stops the writing.</param>
    /// <exception cref="KeelException">A key cannot be written in the format (a .env key holding '=').</exception>
    public static async Task WriteAsync(ConfigFileFormat format, IEnumerable<ConfigEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(output);
        var sorted = entries.OrderBy(e => e.Id.Key, StringComparer.Ordinal).ToList();
        switch (format)
        {
            case ConfigFileFormat.Yaml:
                await WriteYamlAsync(sorted, output, cancellationToken).ConfigureAwait(false);
                break;
            case ConfigFileFormat.Env:
                await WriteEnvAsync(sorted, output, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await WriteJsonAsync(sorted, output, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    static async Task WriteJsonAsync(IEnumerable<ConfigEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        var json = new Utf8JsonWriter(output, JsonOptions);
        await using (json.ConfigureAwait(false))
        {
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

                if (json.BytesPending >= ChunkBytes)
                {
                    await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            json.WriteEndObject();
            await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    static async Task WriteYamlAsync(IEnumerable<ConfigEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        // The emitter writes each event's text as it goes, so what it has written can be handed on while it still holds state.
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

            await DrainAsync(text.GetStringBuilder(), output, ChunkBytes, cancellationToken).ConfigureAwait(false);
        }

        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        await DrainAsync(text.GetStringBuilder(), output, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hands the text gathered so far to the stream once it holds <paramref name="atLeast"/> characters.</summary>
    static async Task DrainAsync(StringBuilder text, Stream output, int atLeast, CancellationToken cancellationToken)
    {
        if (text.Length == 0 || text.Length < atLeast)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        text.Clear();
        await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
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

    static async Task WriteEnvAsync(List<ConfigEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        // Checked before the first byte goes out: once part of the file is on its way, there is no refusing it.
        if (entries.Find(e => e.Id.Key.Contains('=', StringComparison.Ordinal) || e.Id.Key[0] == '#') is { } unwritable)
        {
            throw new KeelException(
                KeelError.InvalidRequest,
                $"Key '{unwritable.Id.Key}' cannot be written to a .env file, which has no way to quote a key holding '=' or starting with '#'; export as json or yaml.");
        }

        var text = new StringBuilder();
        foreach (var entry in entries)
        {
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
            await DrainAsync(text, output, ChunkBytes, cancellationToken).ConfigureAwait(false);
        }

        await DrainAsync(text, output, 0, cancellationToken).ConfigureAwait(false);
    }
}
