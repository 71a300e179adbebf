// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Keel.Core.Configs;

/// <summary>
/// Checks that a value is what its <see cref="ConfigValueType"/> says it is, before anything is written.
/// </summary>
/// <remarks>
/// Values are stored as the exact text the writer sent. A <c>number</c> is a single JSON number with nothing around it; a
/// <c>boolean</c> is <c>true</c> or <c>false</c>; a <c>json</c> value is one JSON document; a <c>yaml</c> value is a YAML stream.
/// Nesting is limited to <see cref="MaxNestingDepth"/> levels so that no value can exhaust a reader's stack. No value of any type may
/// contain U+0000 or an unpaired surrogate: neither survives every backend and every client's UTF-8 decoder unchanged. For the
/// same reason a <c>json</c> value may not repeat a name within an object (parsers disagree on which one wins) nor escape an
/// unpaired surrogate (<c>"\ud800"</c>), the interoperable subset of RFC 7493.
/// </remarks>
public static class ConfigValues
{
    /// <summary>The deepest nesting of arrays and objects (JSON) or sequences and mappings (YAML) a value may have.</summary>
    public const int MaxNestingDepth = 64;

    /// <summary>Field name of the value on the wire.</summary>
    public const string ValueField = "config_value";

    static readonly JsonReaderOptions JsonOptions = new()
    {
        MaxDepth = MaxNestingDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = MaxNestingDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        AllowDuplicateProperties = false,
    };

    /// <summary>Checks <paramref name="value"/> against <paramref name="type"/>.</summary>
    /// <returns><see langword="true"/> when the value is valid; otherwise <paramref name="error"/> says what is wrong.</returns>
    public static bool IsValid(ConfigValueType type, string value, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsStorableText(value, out error))
        {
            return false;
        }

        return type switch
        {
            ConfigValueType.String => true,
            ConfigValueType.Number => IsJsonNumber(value, out error),
            ConfigValueType.Boolean => IsBoolean(value, out error),
            ConfigValueType.Json => IsJson(value, out error),
            ConfigValueType.Yaml => IsYaml(value, out error),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>
    /// The JSON a valid value means: a string as a JSON string, a number, boolean or json value as itself, and a yaml value as the
    /// JSON of its document under YAML 1.2's core schema. This is what JSON Schemas validate.
    /// </summary>
    /// <returns><see langword="null"/>, with <paramref name="error"/>, for a yaml value that JSON cannot show (aliases, several documents).</returns>
    public static string? ToJson(ConfigValueType type, string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(value);
        error = null;
        switch (type)
        {
            case ConfigValueType.String:
                var buffer = new ArrayBufferWriter<byte>(value.Length + 2);
                using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    json.WriteStringValue(value);
                }

                return Encoding.UTF8.GetString(buffer.WrittenSpan);
            case ConfigValueType.Yaml:
                try
                {
                    return Encoding.UTF8.GetString(YamlJson.Convert(value, requireMapping: false).Span);
                }
                catch (YamlJsonException e)
                {
                    error = $"The yaml value cannot be read as JSON at {e.Path}: {e.Message}";
                    return null;
                }

            default:
                return value;
        }
    }

    /// <summary>Checks <paramref name="value"/> against <paramref name="type"/> and throws when it is invalid.</summary>
    /// <exception cref="KeelException">The value is invalid; <see cref="KeelException.Error"/> is <see cref="KeelError.InvalidValue"/>.</exception>
    public static void Validate(ConfigValueType type, string value)
    {
        if (!IsValid(type, value, out var error))
        {
            throw new KeelException(KeelError.InvalidValue, error, [new FieldError(ValueField, error)]);
        }
    }

    static bool IsStorableText(string value, [NotNullWhen(false)] out string? error)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            error = $"{ValueField} must not contain U+0000.";
            return false;
        }

        var invalid = value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (invalid >= 0 && Utf8.FromUtf16(value.AsSpan(invalid), Span<byte>.Empty, out _, out _, replaceInvalidSequences: false)
            == OperationStatus.InvalidData)
        {
            error = $"{ValueField} holds an unpaired surrogate.";
            return false;
        }

        error = null;
        return true;
    }

    static bool IsBoolean(string value, [NotNullWhen(false)] out string? error)
    {
        if (value is "true" or "false")
        {
            error = null;
            return true;
        }

        error = $"A boolean {ValueField} must be exactly 'true' or 'false'.";
        return false;
    }

    static bool IsJsonNumber(string value, [NotNullWhen(false)] out string? error)
    {
        var ok = value.Length > 0 && !char.IsWhiteSpace(value[0]) && !char.IsWhiteSpace(value[^1])
            && ReadJson(value, static (_, ref reader) =>
                reader.Read() && reader.TokenType == JsonTokenType.Number && !reader.Read(), out _);
        error = ok ? null : $"A number {ValueField} must be one JSON number, such as 42, -7 or 1.5e3, with nothing around it.";
        return ok;
    }

    static bool IsJson(string value, [NotNullWhen(false)] out string? error)
    {
        // The document parse checks syntax, depth and repeated names within an object (which parsers resolve differently).
        if (ReadJson(value, static (bytes, ref reader) =>
        {
            using (JsonDocument.Parse(bytes, DocumentOptions))
            {
            }

            // ReadJson reports an undecodable string as the reader itself would: with InvalidOperationException.
            if (JsonText.HasUnpairedSurrogate(bytes.Span, MaxNestingDepth))
            {
                throw new InvalidOperationException();
            }

            return true;
        }, out var failure))
        {
            error = null;
            return true;
        }

        error = $"A json {ValueField} must be valid JSON: {failure}";
        return false;
    }

    delegate bool JsonCheck(ReadOnlyMemory<byte> bytes, ref Utf8JsonReader reader);

    static bool ReadJson(string value, JsonCheck check, out string? failure)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(value, rented);
            var bytes = rented.AsMemory(0, written);
            var reader = new Utf8JsonReader(bytes.Span, JsonOptions);
            failure = null;
            return check(bytes, ref reader);
        }
        catch (JsonException e)
        {
            failure = DescribeJsonError(e);
            return false;
        }
        catch (InvalidOperationException)
        {
            failure = "it holds an escaped unpaired surrogate.";
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    static string DescribeJsonError(JsonException e)
    {
        // The reader's message repeats the offending bytes, which may be part of a secret; position and kind are enough.
        var line = (e.LineNumber ?? 0) + 1;
        var column = (e.BytePositionInLine ?? 0) + 1;
        return e.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? "it repeats a name within one object."
            : e.Message.Contains("does not contain any JSON tokens", StringComparison.Ordinal) ? "it is empty."
            : e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase) ? $"it nests deeper than {MaxNestingDepth} levels (line {line})."
            : $"it does not parse at line {line}, byte {column}.";
    }

    static bool IsYaml(string value, [NotNullWhen(false)] out string? error)
    {
        // Walks the parser's events instead of building a document: the parser keeps its own state stack, so an
        // adversarially deep value cannot overflow the thread's stack, and the walk allocates no tree.
        try
        {
            var parser = new Parser(new StringReader(value));
            var depth = 0;
            HashSet<string>? anchors = null;
            while (parser.MoveNext())
            {
                var current = parser.Current;
                switch (current)
                {
                    case MappingStart or SequenceStart when ++depth > MaxNestingDepth:
                        error = $"A yaml {ValueField} must nest at most {MaxNestingDepth} levels.";
                        return false;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                    case DocumentStart:
                        anchors?.Clear();
                        break;
                    case AnchorAlias alias when anchors is null || !anchors.Contains(alias.Value.Value):
                        error = $"A yaml {ValueField} must be valid YAML: an alias at line {alias.Start.Line} refers to an undefined anchor.";
                        return false;
                }

                if (current is NodeEvent { Anchor.IsEmpty: false } node)
                {
                    (anchors ??= new HashSet<string>(StringComparer.Ordinal)).Add(node.Anchor.Value);
                }
            }

            error = null;
            return true;
        }
        catch (YamlException e)
        {
            error = $"A yaml {ValueField} must be valid YAML: it does not parse at line {e.Start.Line}, column {e.Start.Column}.";
            return false;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // The parser reports some malformed input (stray tokens, bad tag URIs) with these instead of a YamlException.
            error = $"A yaml {ValueField} must be valid YAML: it does not parse.";
            return false;
        }
    }
}
