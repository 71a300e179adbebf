// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using Keel.Core.Configs;

namespace Keel.Core.Schemas;

/// <summary>
/// Which schema applies to a key: a pattern is an exact key (<c>db.port</c>) or a prefix ending in <c>*</c> (<c>db.*</c>, or
/// <c>*</c> for every key). The most specific pattern that matches applies, alone: an exact key before any prefix, and a longer
/// prefix before a shorter one.
/// </summary>
public static class SchemaPatterns
{
    /// <summary>Field name of the key pattern on the wire.</summary>
    public const string Field = "key_pattern";

    /// <summary>Checks a pattern.</summary>
    public static bool IsValid(string? pattern, [NotNullWhen(false)] out string? error) => IsValid(pattern, write: false, out error);

    /// <summary>
    /// Checks a pattern a schema is put under: its key or prefix in NFC (<see cref="ConfigNames.IsWritableKey"/>), since a
    /// pattern matches keys as they are spelled and no key outside NFC can be written.
    /// </summary>
    public static bool IsWritable(string? pattern, [NotNullWhen(false)] out string? error) => IsValid(pattern, write: true, out error);

    static bool IsValid(string? pattern, bool write, [NotNullWhen(false)] out string? error)
    {
        if (pattern is "*")
        {
            error = null;
            return true;
        }

        var key = pattern is not null && pattern.EndsWith('*') ? pattern[..^1] : pattern;
        string? keyError;
        if (!(write ? ConfigNames.IsWritableKey(key, out keyError) : ConfigNames.IsValidKey(key, out keyError)))
        {
            error = $"{Field} must be a key, or a key prefix followed by '*': {keyError}";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="pattern"/> matches <paramref name="key"/>.</summary>
    public static bool Matches(string pattern, string key)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return pattern.EndsWith('*') ? key.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : pattern == key;
    }

    /// <summary>The pattern that applies to <paramref name="key"/> among <paramref name="patterns"/>, or <see langword="null"/>.</summary>
    public static string? MostSpecific(IEnumerable<string> patterns, string key)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        string? best = null;
        foreach (var pattern in patterns)
        {
            if (Matches(pattern, key) && (best is null || Rank(pattern) > Rank(best)))
            {
                best = pattern;
            }
        }

        return best;
    }

    // An exact key outranks every prefix; among prefixes, the longer one is more specific.
    static int Rank(string pattern) => pattern.EndsWith('*') ? pattern.Length - 1 : int.MaxValue;
}
