// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Keel.Core;

namespace Keel.Server.Http;

/// <summary>
/// The opaque <c>cursor</c> of every paged listing: the unpadded base64url of UTF-8 text that starts with a marker naming the
/// listing and the cursor's format (<c>a1:</c> for the audit trail), followed by the position. A cursor is read back only in the
/// exact spelling <see cref="Encode(string, string)"/> gives it; anything else (another alphabet, padding, whitespace, bytes that
/// are not UTF-8, another listing's marker) is the one 400 of <see cref="Invalid"/>, and never reaches a parser or the store.
/// </summary>
static class Cursors
{
    public const string Parameter = "cursor";

    // Longer than any cursor an answer gives: a search position of two 500-character keys is under 6,000 characters.
    const int MaxLength = 8192;

    // The alphabet alone: Base64Url.IsValid also passes padding and whitespace, which would give one position many cursors.
    static readonly SearchValues<char> Alphabet = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string Encode(string marker, string position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(marker + position));

    public static string Encode(string marker, long position) =>
        Encode(marker, position.ToString(CultureInfo.InvariantCulture));

    /// <summary>The position in the request's <c>cursor</c>, which must carry <paramref name="marker"/>; <see langword="null"/> when absent.</summary>
    /// <exception cref="KeelException">The cursor is given twice or is not one this listing gave (<see cref="Invalid"/>).</exception>
    public static string? Read(IQueryCollection query, string marker)
    {
        var cursor = QueryParameters.Single(query, Parameter);
        if (cursor is null)
        {
            return null;
        }

        return TryDecode(cursor, marker, out var position) ? position : throw Invalid();
    }

    /// <summary>The position made by <see cref="Encode(string, long)"/> in the request's <c>cursor</c>; <see langword="null"/> when absent.</summary>
    /// <exception cref="KeelException">The cursor is given twice or is not one this listing gave (<see cref="Invalid"/>).</exception>
    public static long? ReadInteger(IQueryCollection query, string marker)
    {
        var position = Read(query, marker);
        if (position is null)
        {
            return null;
        }

        return position is not ['0', _, ..]
            && long.TryParse(position, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Invalid();
    }

    /// <summary>The one answer to a cursor that is not a <c>next_cursor</c> of the listing it is sent to.</summary>
    public static KeelException Invalid() =>
        QueryParameters.Invalid(Parameter, "cursor must be a next_cursor value from an earlier answer of the same listing.");

    static bool TryDecode(string cursor, string marker, [NotNullWhen(true)] out string? position)
    {
        position = null;

        // Base64Url's decoders throw FormatException on malformed text, TryDecodeFromChars included; IsValid does not, and
        // what it passes (within the alphabet) they decode.
        if (cursor.Length is 0 or > MaxLength
            || cursor.AsSpan().ContainsAnyExcept(Alphabet)
            || !Base64Url.IsValid(cursor, out var length))
        {
            return false;
        }

        var bytes = new byte[length];
        if (!Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || !Utf8.IsValid(bytes.AsSpan(0, written)))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(bytes, 0, written);
        if (!text.StartsWith(marker, StringComparison.Ordinal))
        {
            return false;
        }

        position = text[marker.Length..];
        return true;
    }
}
