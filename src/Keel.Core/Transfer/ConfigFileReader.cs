// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Keel.Core.Configs;

namespace Keel.Core.Transfer;

/// <summary>One key read from an import file, with its typed value and where in the file it came from.</summary>
/// <param name="Key">The key: the dotted path of nested objects.</param>
/// <param name="Value">The value as Keel stores it.</param>
/// <param name="ValueType">The value's type.</param>
/// <param name="Location">Where the key is in the file: a JSON path such as <c>$.db.port</c>, or <c>line 3</c> of a .env file.</param>
public sealed record FileEntry(string Key, string Value, ConfigValueType ValueType, string Location);

/// <summary>The limits an import file is held to.</summary>
/// <param name="MaxKeys">The most keys a file may hold.</param>
/// <param name="MaxValueBytes">The largest value, in UTF-8 bytes.</param>
public sealed record ConfigFileLimits(int MaxKeys, int MaxValueBytes)
{
    /// <summary>The most errors one answer lists; a file with more is reported by its first ones and a count.</summary>
    public int MaxErrors { get; init; } = 1000;
}

/// <summary>
/// Reads import files into typed keys: JSON, YAML, .env and appsettings.json, flattened the same way.
/// </summary>
/// <remarks>
/// <para>
/// Nested objects (mappings) become dotted keys (<c>{"db": {"port": 5432}}</c> is <c>db.port</c>); arrays (sequences) stay whole,
/// as <c>json</c> values; an empty nested object is the <c>json</c> value <c>{}</c>. Scalars keep their type: a number is a
/// <c>number</c>, <c>true</c> and <c>false</c> are <c>boolean</c>, anything else a <c>string</c>; every .env value is a string.
/// <c>null</c> has no Keel value and is refused.
/// </para>
/// <para>
/// A key that already exists keeps its type whenever the file's value is valid as that type: a .env line <c>PORT=8080</c> over a
/// <c>number</c> key stays a number, and an object at the path of a <c>json</c> key is that key's value rather than more keys. So
/// an exported file imports back unchanged in every format. An import never changes an existing key's type unless the new value
/// does not fit it; a PUT does.
/// </para>
/// <para>
/// YAML is read as YAML 1.2's core schema (<c>yes</c> and <c>on</c> are strings) from a single document; aliases are refused,
/// since one alias can stand for an unbounded amount of text.
/// </para>
/// </remarks>
public static class ConfigFileReader
{
    const int MaxFileDepth = YamlJson.MaxDepth;

    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = MaxFileDepth + 1 };

    /// <summary>Reads an import file.</summary>
    /// <param name="format">The file's format.</param>
    /// <param name="file">The file's bytes, UTF-8 with or without a byte order mark.</param>
    /// <param name="limits">The limits.</param>
    /// <param name="liveType">The type of the key as it exists now, or <see langword="null"/> for a key that is not live.</param>
    /// <returns>The keys, in file order.</returns>
    /// <exception cref="KeelException">
    /// The file does not parse, or holds keys or values Keel cannot store (<see cref="KeelError.InvalidFile"/>, with every error
    /// up to <see cref="ConfigFileLimits.MaxErrors"/>), or more keys than the limit (<see cref="KeelError.PayloadTooLarge"/>).
    /// </exception>
    public static IReadOnlyList<FileEntry> Read(
        ConfigFileFormat format, ReadOnlyMemory<byte> file, ConfigFileLimits limits, Func<string, ConfigValueType?> liveType)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(liveType);
        var bytes = file.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? file[3..] : file;
        if (!Utf8.IsValid(bytes.Span))
        {
            throw Invalid([new FieldError("$", "The file is not valid UTF-8.")]);
        }

        var reader = new Reader(limits, liveType);
        switch (format)
        {
            case ConfigFileFormat.Env:
                reader.ReadEnv(Encoding.UTF8.GetString(bytes.Span));
                break;
            case ConfigFileFormat.Yaml:
                var json = YamlToJson(Encoding.UTF8.GetString(bytes.Span));
                reader.ReadJson(json, allowComments: false);
                break;
            default:
                reader.ReadJson(bytes, allowComments: format == ConfigFileFormat.AppSettings);
                break;
        }

        return reader.Finish();
    }

    static KeelException Invalid(IReadOnlyList<FieldError> errors, int more = 0) => new(
        KeelError.InvalidFile,
        (errors.Count == 1 && more == 0 ? $"The file cannot be imported: {errors[0].Path}: {errors[0].Message}" : $"The file cannot be imported: {errors.Count + more} errors; see errors.")
            + (more > 0 ? $" The first {errors.Count} are listed." : "") + " Nothing was written.",
        errors);

    /// <summary>Turns a YAML document into the JSON document it means, so that one flattener reads both.</summary>
    static ReadOnlyMemory<byte> YamlToJson(string text)
    {
        try
        {
            return YamlJson.Convert(text, requireMapping: true);
        }
        catch (YamlJsonException e)
        {
            throw Invalid([new FieldError(e.Path, e.Message)]);
        }
    }

    sealed class Reader(ConfigFileLimits limits, Func<string, ConfigValueType?> liveType)
    {
        readonly List<FileEntry> _entries = [];
        readonly Dictionary<string, string> _locations = new(StringComparer.Ordinal);
        readonly List<FieldError> _errors = [];
        int _moreErrors;

        public List<FileEntry> Finish() => _errors.Count > 0 ? throw Invalid(_errors, _moreErrors) : _entries;

        public void ReadJson(ReadOnlyMemory<byte> json, bool allowComments)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(json, new JsonDocumentOptions
                {
                    MaxDepth = MaxFileDepth,
                    AllowTrailingCommas = allowComments,
                    CommentHandling = allowComments ? JsonCommentHandling.Skip : JsonCommentHandling.Disallow,
                    AllowDuplicateProperties = false,
                });
            }
            catch (InvalidOperationException)
            {
                // Comparing property names for duplicates decodes them, and an escaped unpaired surrogate does not decode.
                throw Invalid([new FieldError("$", "The file holds a string that is not valid Unicode (an escaped unpaired surrogate).")]);
            }
            catch (JsonException e)
            {
                throw Invalid([new FieldError(
                    e.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $"line {line + 1}, byte {e.BytePositionInLine + 1}") : "$",
                    e.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase)
                        ? "A key appears more than once in one object."
                        : e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase)
                            ? $"The file nests deeper than {MaxFileDepth} levels."
                            : e.Message.Contains("does not contain any JSON tokens", StringComparison.Ordinal)
                                ? "The file is empty; send a JSON object ({} for no keys)."
                                : "The file is not valid JSON here.")]);
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid([new FieldError("$", "The file must hold an object of keys at the top.")]);
                }

                try
                {
                    Flatten(document.RootElement, "", "$");
                }
                catch (InvalidOperationException)
                {
                    throw Invalid([new FieldError("$", "The file holds a string that is not valid Unicode (an escaped unpaired surrogate).")]);
                }
            }
        }

        void Flatten(JsonElement element, string prefix, string path)
        {
            foreach (var property in element.EnumerateObject())
            {
                var key = prefix.Length == 0 ? property.Name : prefix + "." + property.Name;
                var childPath = YamlJson.PathOf(path, property.Name);
                var value = property.Value;
                if (value.ValueKind == JsonValueKind.Object
                    && value.EnumerateObject().Any()
                    && liveType(key) != ConfigValueType.Json)
                {
                    Flatten(value, key, childPath);
                }
                else if (value.ValueKind == JsonValueKind.Null)
                {
                    Error(childPath, "null has no value in Keel; leave the key out, or write a string.");
                }
                else
                {
                    Add(key, childPath, value);
                }
            }
        }

        void Add(string key, string location, JsonElement value)
        {
            var (text, type) = value.ValueKind switch
            {
                JsonValueKind.String => (value.GetString()!, ConfigValueType.String),
                JsonValueKind.Number => (value.GetRawText(), ConfigValueType.Number),
                JsonValueKind.True or JsonValueKind.False => (value.GetRawText(), ConfigValueType.Boolean),
                _ => (Compact(value), ConfigValueType.Json),
            };

            var live = liveType(key);
            if (live is { } t && t != type)
            {
                // The existing key's type, when the file's value is valid as it (see the remarks on the class).
                var candidate = t == ConfigValueType.Json ? Compact(value)
                    : value.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? null
                    : text;
                if (candidate is not null && ConfigValues.IsValid(t, candidate, out _))
                {
                    (text, type) = (candidate, t);
                }
            }

            AddEntry(key, location, text, type);
        }

        static string Compact(JsonElement value)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer, WriterOptions))
            {
                value.WriteTo(json);
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        public void ReadEnv(string text)
        {
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var number = i + 1;
                var line = lines[i].TrimEnd('\r').TrimStart();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                var location = string.Create(CultureInfo.InvariantCulture, $"line {number}");
                if (line.StartsWith("export ", StringComparison.Ordinal))
                {
                    line = line[7..].TrimStart();
                }

                var equals = line.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    Error(location, "Expected KEY=value.");
                    continue;
                }

                var key = line[..equals].Trim();
                var rest = line[(equals + 1)..].TrimStart(' ', '\t');
                string? value;
                if (rest.Length > 0 && rest[0] is '"' or '\'')
                {
                    value = ReadQuoted(lines, ref i, rest, location);
                }
                else
                {
                    var comment = rest.IndexOf(" #", StringComparison.Ordinal);
                    value = (comment < 0 ? rest : rest[..comment]).TrimEnd(' ', '\t');
                }

                if (value is null)
                {
                    continue;
                }

                var type = ConfigValueType.String;
                if (liveType(key) is { } live && live != type && ConfigValues.IsValid(live, value, out _))
                {
                    type = live;
                }

                AddEntry(key, location, value, type);
            }
        }

        /// <summary>A quoted value, which may run over several lines; single quotes are literal, double quotes take escapes.</summary>
        string? ReadQuoted(string[] lines, ref int index, string rest, string location)
        {
            var quote = rest[0];
            var value = new StringBuilder();
            var text = rest[1..];
            while (true)
            {
                for (var j = 0; j < text.Length; j++)
                {
                    var c = text[j];
                    if (c == quote)
                    {
                        var after = text[(j + 1)..].TrimStart(' ', '\t');
                        if (after.Length > 0 && after[0] != '#')
                        {
                            Error(location, "Only a comment may follow a quoted value on its line.");
                            return null;
                        }

                        return value.ToString();
                    }

                    if (c == '\\' && quote == '"' && j + 1 < text.Length)
                    {
                        j++;
                        value.Append(text[j] switch
                        {
                            'n' => "\n",
                            'r' => "\r",
                            't' => "\t",
                            '"' => "\"",
                            '\\' => "\\",
                            var other => "\\" + other,
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (++index >= lines.Length)
                {
                    Error(location, $"The value's opening {quote} is never closed.");
                    return null;
                }

                value.Append('\n');
                text = lines[index].TrimEnd('\r');
            }
        }

        void AddEntry(string key, string location, string value, ConfigValueType type)
        {
            if (!ConfigNames.IsWritableKey(key, out var keyError))
            {
                Error(location, keyError);
                return;
            }

            if (_locations.TryGetValue(key, out var first))
            {
                Error(location, $"Key '{key}' appears again; it is first at {first}.");
                return;
            }

            _locations.Add(key, location);
            if ((long)value.Length * 3 > limits.MaxValueBytes && Encoding.UTF8.GetByteCount(value) > limits.MaxValueBytes)
            {
                Error(location, $"The value is larger than {limits.MaxValueBytes} bytes (Keel:Limits:MaxValueBytes).");
                return;
            }

            if (!ConfigValues.IsValid(type, value, out var valueError))
            {
                Error(location, valueError);
                return;
            }

            if (_entries.Count == limits.MaxKeys)
            {
                throw new KeelException(
                    KeelError.PayloadTooLarge,
                    $"The file holds more than {limits.MaxKeys} keys (Keel:Limits:MaxImportKeys); split it. Nothing was written.");
            }

            _entries.Add(new FileEntry(key, value, type, location));
        }

        void Error(string location, string message)
        {
            if (_errors.Count < limits.MaxErrors)
            {
                _errors.Add(new FieldError(location, message));
            }
            else
            {
                _moreErrors++;
            }
        }
    }
}
