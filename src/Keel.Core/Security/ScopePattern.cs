// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using Keel.Core.Configs;

namespace Keel.Core.Security;

/// <summary>
/// A set of service/environment pairs, written <c>service/environment</c>, where each side is a name, <c>*</c> for any, or a
/// prefix ending in <c>*</c>: <c>user-service/*</c>, <c>*/dev</c>, <c>payments-*/prod</c>, <c>*/*</c>.
/// </summary>
public sealed class ScopePattern : IEquatable<ScopePattern>
{
    ScopePattern(string text, string service, string environment)
    {
        Text = text;
        Service = service;
        Environment = environment;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>The service side.</summary>
    public string Service { get; }

    /// <summary>The environment side.</summary>
    public string Environment { get; }

    /// <summary>Parses a pattern.</summary>
    /// <param name="text">The pattern.</param>
    /// <param name="pattern">The parsed pattern.</param>
    /// <param name="error">Why the text is not a pattern.</param>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ScopePattern? pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = null;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash < 0 || text.IndexOf('/', slash + 1) >= 0)
        {
            error = "A scope is service/environment, each a name, * or a prefix ending in *.";
            return false;
        }

        var service = text[..slash];
        var environment = text[(slash + 1)..];
        if (!IsValidSide(service))
        {
            error = $"The service side '{service}' of scope '{text}' must be a service name, * or a name prefix ending in *.";
            return false;
        }

        if (!IsValidSide(environment))
        {
            error = $"The environment side '{environment}' of scope '{text}' must be an environment name, * or a name prefix ending in *.";
            return false;
        }

        pattern = new ScopePattern(text, service, environment);
        error = null;
        return true;
    }

    /// <summary>Parses a pattern that is known to be valid, such as one read back from the store.</summary>
    /// <exception cref="FormatException">The text is not a pattern.</exception>
    public static ScopePattern Parse(string text) =>
        TryParse(text, out var pattern, out var error) ? pattern : throw new FormatException(error);

    /// <summary>The stored form of a token's scopes: their texts, separated by spaces.</summary>
    public static string ToStored(IEnumerable<ScopePattern> scopes) => string.Join(' ', scopes.Select(s => s.Text));

    /// <summary>Reads the stored form back.</summary>
    public static IReadOnlyList<ScopePattern> ParseStored(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];
    }

    /// <summary>Whether the pattern covers a service and environment.</summary>
    public bool Matches(string serviceName, string environment) =>
        SideMatches(Service, serviceName) && SideMatches(Environment, environment);

    /// <summary>Whether the pattern covers every environment of a service.</summary>
    public bool CoversService(string serviceName) => Environment == "*" && SideMatches(Service, serviceName);

    /// <summary>Whether the pattern covers a service in at least one environment.</summary>
    public bool ReachesService(string serviceName) => SideMatches(Service, serviceName);

    /// <summary>Whether the pattern covers every environment of every service.</summary>
    public bool IsEverything => Service == "*" && Environment == "*";

    static bool SideMatches(string side, string name) =>
        side[^1] == '*' ? name.StartsWith(side.AsSpan(0, side.Length - 1), StringComparison.Ordinal) : string.Equals(side, name, StringComparison.Ordinal);

    static bool IsValidSide(string side)
    {
        if (side == "*")
        {
            return true;
        }

        // A prefix is checked as the name it begins: the same characters, and a name's first character first.
        var name = side.EndsWith('*') ? side[..^1] : side;
        return name.Length > 0 && ConfigNames.IsValidServiceName(name, out _);
    }

    /// <inheritdoc/>
    public bool Equals(ScopePattern? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ScopePattern);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

    /// <inheritdoc/>
    public override string ToString() => Text;
}
