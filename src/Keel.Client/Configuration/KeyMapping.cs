// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Keel.Client.Configuration;

/// <summary>
/// How a Keel key and value become configuration entries: dots separate sections (<c>db.pool.size</c> is
/// <c>db:pool:size</c>, <c>\.</c> keeps a literal dot), and <c>json</c> and <c>yaml</c> values are flattened into sections
/// as the JSON configuration provider flattens a file (arrays as <c>:0</c>, <c>:1</c>).
/// </summary>
static class KeyMapping
{
    /// <summary>
    /// The most entries one value may flatten to. YAML aliases can make a short value expand to billions of entries; a
    /// value over this is left out with a warning instead.
    /// </summary>
    public const int MaxEntriesPerValue = 100_000;

    public static string ToPath(string key)
    {
        if (!key.Contains('.', StringComparison.Ordinal))
        {
            return key;
        }

        var path = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c == '\\' && i + 1 < key.Length && key[i + 1] == '.')
            {
                path.Append('.');
                i++;
            }
            else
            {
                path.Append(c == '.' ? ConfigurationPath.KeyDelimiter[0] : c);
            }
        }

        return path.ToString();
    }

    /// <summary>The entries of one value under <paramref name="path"/>; <see langword="null"/> when it cannot be flattened.</summary>
    public static KeyValuePair<string, string?>[]? Flatten(string path, string value, string valueType)
    {
        var entries = new List<KeyValuePair<string, string?>>();
        try
        {
            switch (valueType)
            {
                case "json":
                    using (var document = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = 128 }))
                    {
                        Json(path, document.RootElement, entries);
                    }

                    break;
                case "yaml":
                    var stream = new YamlStream();
                    stream.Load(new StringReader(value));
                    if (stream.Documents.Count == 0)
                    {
                        entries.Add(new(path, null));
                    }
                    else
                    {
                        Yaml(path, stream.Documents[0].RootNode, entries, 0);
                    }

                    break;
                default:
                    entries.Add(new(path, value));
                    break;
            }
        }
        catch (Exception e) when (e is JsonException or YamlException or TooManyEntriesException or InvalidOperationException)
        {
            return null;
        }

        return [.. entries];
    }

    static void Json(string path, JsonElement element, List<KeyValuePair<string, string?>> entries)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var any = false;
                foreach (var property in element.EnumerateObject())
                {
                    any = true;
                    Json(ConfigurationPath.Combine(path, property.Name), property.Value, entries);
                }

                Empty(path, any, entries);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Json(ConfigurationPath.Combine(path, index++.ToString(CultureInfo.InvariantCulture)), item, entries);
                }

                Empty(path, index > 0, entries);
                break;
            case JsonValueKind.String:
                Add(path, element.GetString(), entries);
                break;
            case JsonValueKind.Null:
                // The JSON provider reads null as empty text.
                Add(path, "", entries);
                break;
            default:
                Add(path, element.GetRawText(), entries);
                break;
        }
    }

    static void Yaml(string path, YamlNode node, List<KeyValuePair<string, string?>> entries, int depth)
    {
        // The server refuses deeper values; an alias cannot make a node its own ancestor, but the bound costs nothing.
        if (depth > 128)
        {
            throw new TooManyEntriesException();
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, child) in mapping.Children)
                {
                    var name = key is YamlScalarNode scalar ? scalar.Value ?? "" : throw new InvalidOperationException("A YAML key that is not a scalar.");
                    Yaml(ConfigurationPath.Combine(path, name), child, entries, depth + 1);
                }

                Empty(path, mapping.Children.Count > 0, entries);
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Yaml(ConfigurationPath.Combine(path, i.ToString(CultureInfo.InvariantCulture)), sequence.Children[i], entries, depth + 1);
                }

                Empty(path, sequence.Children.Count > 0, entries);
                break;
            case YamlScalarNode scalar:
                var plainNull = scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";
                Add(path, plainNull ? "" : scalar.Value, entries);
                break;
        }
    }

    // As the JSON provider does, an empty object or array is a section with a null value, so that GetSection finds it.
    static void Empty(string path, bool any, List<KeyValuePair<string, string?>> entries)
    {
        if (!any)
        {
            Add(path, null, entries);
        }
    }

    static void Add(string path, string? value, List<KeyValuePair<string, string?>> entries)
    {
        if (entries.Count >= MaxEntriesPerValue)
        {
            throw new TooManyEntriesException();
        }

        entries.Add(new(path, value));
    }

    sealed class TooManyEntriesException : Exception;
}
