// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers.Text;
using System.Text;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>
/// Paging positions no answer ever gave, written as they appear in a query string. Every endpoint that pages refuses each of
/// them with a 400 naming its parameter.
/// </summary>
public static class BadCursors
{
    /// <summary>
    /// Bad values of an opaque <c>cursor</c>: not base64url, base64url spelled otherwise than an answer spells it (padding,
    /// whitespace, the other alphabet), and base64url of bytes that are no endpoint's position.
    /// </summary>
    public static TheoryData<string> Opaque =>
    [
        "0",
        "!!!",
        "-1",
        "%FF",
        "%00",
        "%20",
        "",
        "A",
        "AB",
        "a%2Bb",
        "YT%2FE6MQ",
        "YTE6MQ%3D%3D",
        "YTE6MQ%3D",
        "%20YTE6MQ",
        "YTE6%0AMQ",
        "YTE6MQ%00",
        Encode("x1:1"),
        Base64Url.EncodeToString([0xFF, 0xFE, 0xFD]),
        new string('A', 4000),
    ];

    /// <summary>Bad values of an integer position (<c>before_version</c>, <c>since_revision</c>).</summary>
    public static TheoryData<string> Integers =>
    [
        "-1",
        "!!!",
        "%FF",
        "%00",
        "",
        "1.5",
        "1e3",
        "%2B1",
        "%201",
        "1%20",
        "0x1",
        "1%2C2",
        "%D9%A1",
        "99999999999999999999",
    ];

    /// <summary>Forged cursors that carry <paramref name="marker"/>, the endpoint's own, but no position.</summary>
    public static TheoryData<string> Forged(string marker) =>
    [
        Encode(marker),
        Encode(marker + "-1"),
        Encode(marker + "+1"),
        Encode(marker + " 1"),
        Encode(marker + "1 "),
        Encode(marker + "1x"),
        Encode(marker + "0x10"),
        Encode(marker + "99999999999999999999"),
        Encode(marker.ToUpperInvariant() + "1"),
    ];

    /// <summary>The cursor an answer would give for <paramref name="payload"/>, URL-safe as it is.</summary>
    public static string Encode(string payload) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload));
}
