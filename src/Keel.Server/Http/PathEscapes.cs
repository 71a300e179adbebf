// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Unicode;
using Keel.Core;
using Keel.Core.Configs;
using Microsoft.AspNetCore.Http.Features;

namespace Keel.Server.Http;

/// <summary>
/// The percent-escapes Kestrel leaves undecoded, which would give one name two URLs. Every endpoint whose route names a
/// service, environment, key or pattern refuses them before it reads the route; OFREP treats them as naming no flag.
/// </summary>
static class PathEscapes
{
    /// <summary>
    /// Refuses the percent-escapes Kestrel leaves undecoded, which would give one key two URLs: <c>%2F</c> (a key <c>a%2Fb</c>
    /// would arrive as the literal text <c>a%2Fb</c>, also reachable as <c>a%252Fb</c>), a <c>%</c> that two hex digits do not
    /// follow (<c>%zz</c>, <c>50%</c> arrive as they are, also reachable as <c>%25zz</c> and <c>50%25</c>), and escapes that do
    /// not decode as UTF-8 (<c>%FF</c> arrives as the text <c>%FF</c>).
    /// </summary>
    /// <param name="httpContext">The request.</param>
    /// <param name="field">The field the error names: the route's key.</param>
    /// <exception cref="KeelException">The path holds such an escape (400 <see cref="KeelError.InvalidName"/>).</exception>
    public static void EnsureUnambiguous(HttpContext httpContext, string field = ConfigNames.KeyField)
    {
        if (FindAmbiguous(httpContext) is { } error)
        {
            throw ConfigNames.InvalidName([new FieldError(field, error)]);
        }
    }

    /// <summary>Why the request's path gives a name a second URL, or <see langword="null"/> when it does not.</summary>
    public static string? FindAmbiguous(HttpContext httpContext)
    {
        var raw = httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is null || !raw.Contains('%', StringComparison.Ordinal))
        {
            return null;
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? raw.AsSpan() : raw.AsSpan(0, query);
        if (path.Contains("%2F", StringComparison.OrdinalIgnoreCase))
        {
            return "Names must not contain '/', encoded (%2F) or not.";
        }

        if (HasBarePercent(path))
        {
            return "The path holds a '%' that does not start a percent-escape of two hex digits; escape a '%' in a name as %25.";
        }

        return DecodesAsUtf8(path)
            ? null
            : "The path holds percent-escapes that do not decode as UTF-8; escape each byte of a UTF-8 character.";
    }

    static bool HasBarePercent(ReadOnlySpan<char> path)
    {
        for (var i = path.IndexOf('%'); i >= 0; i = path.IndexOf('%'))
        {
            if (i + 2 >= path.Length || !char.IsAsciiHexDigit(path[i + 1]) || !char.IsAsciiHexDigit(path[i + 2]))
            {
                return true;
            }

            path = path[(i + 3)..];
        }

        return false;
    }

    static bool DecodesAsUtf8(ReadOnlySpan<char> path)
    {
        // The request target is ASCII (Kestrel refuses anything else), so each char is one byte before decoding.
        var bytes = path.Length <= 512 ? stackalloc byte[path.Length] : new byte[path.Length];
        var length = 0;
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '%' && i + 2 < path.Length && char.IsAsciiHexDigit(path[i + 1]) && char.IsAsciiHexDigit(path[i + 2]))
            {
                bytes[length++] = (byte)((HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]));
                i += 2;
            }
            else
            {
                bytes[length++] = (byte)path[i];
            }
        }

        return Utf8.IsValid(bytes[..length]);
    }

    static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
