// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core;

/// <summary>JSON paths as errors name places in a document: <c>$.flags.beta</c>, <c>$.properties['a b']</c>, <c>$.allOf[0]</c>.</summary>
public static class JsonPaths
{
    /// <summary>The path of member <paramref name="name"/> of the object at <paramref name="path"/>: dotted when the name is a plain identifier, else bracketed and quoted.</summary>
    public static string Child(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '-') && !char.IsAsciiDigit(name[0]) && name[0] != '-'
            ? path + "." + name
            : path + "['" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";
    }
}
