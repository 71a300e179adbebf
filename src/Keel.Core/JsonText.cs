// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Core;

/// <summary>Checks of JSON text that Keel keeps as it was sent and serves again.</summary>
public static class JsonText
{
    /// <summary>
    /// Whether an escaped string or property name of the UTF-8 JSON text holds an unpaired surrogate (<c>"\ud800"</c>): the
    /// text is valid JSON, yet no string can hold what it means, so any later read or answer of it would fail.
    /// </summary>
    /// <exception cref="JsonException">The text is not JSON, or nests deeper than <paramref name="maxDepth"/>.</exception>
    public static bool HasUnpairedSurrogate(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
                // Only an escape can write a lone surrogate: the bytes themselves are valid UTF-8.
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
            }
        }
        catch (InvalidOperationException)
        {
            return true;
        }

        return false;
    }
}
