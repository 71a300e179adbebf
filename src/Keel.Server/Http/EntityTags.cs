// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Storage;
using Microsoft.Net.Http.Headers;

namespace Keel.Server.Http;

/// <summary>
/// Entity tags and conditional requests. A key's tag is its version in quotes (<c>"3"</c>); writes honour <c>If-Match</c> (a list
/// of tags, compared strongly, or <c>*</c>) and <c>If-None-Match: *</c>; reads answer <c>If-None-Match</c> with 304 (weak
/// comparison).
/// </summary>
static class EntityTags
{
    // Most keys live at low versions: their tags are made once, so that neither a cached entry nor a hit holds or makes one.
    static readonly string?[] VersionTags = new string?[1024];

    public static string ForVersion(long version)
    {
        if ((ulong)version >= (ulong)VersionTags.Length)
        {
            return string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");
        }

        ref var tag = ref VersionTags[version];
        return tag ??= string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");
    }

    /// <summary>The tag of a listing: the revision of its scope's last change, deletes included.</summary>
    public static string ForListing(long lastChangeRevision) => string.Create(CultureInfo.InvariantCulture, $"\"r{lastChangeRevision}\"");

    /// <summary>The condition a write carries in its headers.</summary>
    /// <exception cref="KeelException">A header is malformed or asks for something Keel does not support (400).</exception>
    public static VersionCondition WriteCondition(HttpRequest request, bool allowIfNoneMatch)
    {
        var ifMatch = request.Headers.IfMatch;
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (ifMatch.Count > 0 && ifNoneMatch.Count > 0)
        {
            throw Invalid("Send either If-Match or If-None-Match, not both.");
        }

        if (ifNoneMatch.Count > 0)
        {
            if (!allowIfNoneMatch)
            {
                throw Invalid("This method honours If-Match only.");
            }

            if (EntityTagHeaderValue.TryParseStrictList(ifNoneMatch, out var tags) && tags.Count == 1 && tags[0].Equals(EntityTagHeaderValue.Any))
            {
                return VersionCondition.NotExists;
            }

            throw Invalid("If-None-Match on a write must be *.");
        }

        if (ifMatch.Count == 0)
        {
            return VersionCondition.None;
        }

        if (!EntityTagHeaderValue.TryParseStrictList(ifMatch, out var matches))
        {
            throw Invalid("If-Match must be * or a list of entity tags, such as \"3\".");
        }

        if (matches.Any(m => m.Equals(EntityTagHeaderValue.Any)))
        {
            return VersionCondition.Exists;
        }

        // If-Match compares strongly (RFC 9110, section 13.1.1): a weak tag, or one Keel never issued, matches no version.
        var versions = matches.Where(m => !m.IsWeak).Select(m => TryParseVersion(m, out var v) ? v : 0).Where(v => v > 0).ToArray();
        return VersionCondition.IsAnyVersion(versions);
    }

    /// <summary>Whether the request's <c>If-None-Match</c> names <paramref name="currentTag"/> (or is <c>*</c>), so a read answers 304.</summary>
    public static bool IfNoneMatchHits(HttpRequest request, string currentTag)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        var current = new EntityTagHeaderValue(currentTag);
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: false))
            {
                return true;
            }
        }

        return false;
    }

    static bool TryParseVersion(EntityTagHeaderValue tag, out long version)
    {
        var value = tag.Tag.AsSpan().Trim('"');
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0;
    }

    static KeelException Invalid(string message) => new(KeelError.InvalidRequest, message);
}
