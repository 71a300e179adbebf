// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using Keel.Core.Configs;
using Keel.Flags;

namespace Keel.Core.Flags;

/// <summary>
/// Where flags live in the store: as JSON values beside the configuration, one per flag, under the environment's name
/// followed by <c>#flags</c>. No environment name holds <c>#</c>, so a flag never meets a configuration key, and every
/// store mechanism (versions, history, rollback, change sets, audit, the change feed) serves flags unchanged. Configuration
/// reads that span environments (search, a service's listing, watches without an environment) leave these out.
/// </summary>
public static class FlagStorage
{
    /// <summary>What follows the environment's name in a flag's stored environment.</summary>
    public const string EnvironmentSuffix = "#flags";

    /// <summary>The character no environment name holds, which marks a stored environment as one of flags.</summary>
    public const char Marker = '#';

    /// <summary>The stored id of flag <paramref name="flagKey"/> of a service and environment.</summary>
    public static ConfigId Id(string serviceName, string environment, string flagKey) => new(serviceName, Environment(environment), flagKey);

    /// <summary>The stored environment of the flags of <paramref name="environment"/>.</summary>
    public static string Environment(string environment) => environment + EnvironmentSuffix;

    /// <summary>
    /// The stored environment of the flags of <paramref name="environment"/> when <paramref name="flags"/> is
    /// <see langword="true"/>, else of its configuration: the environment itself.
    /// </summary>
    public static string Environment(string environment, bool flags) => flags ? Environment(environment) : environment;

    /// <summary>Whether a stored environment is one of flags.</summary>
    public static bool IsFlagEnvironment(string storedEnvironment)
    {
        ArgumentNullException.ThrowIfNull(storedEnvironment);
        return storedEnvironment.Contains(Marker, StringComparison.Ordinal);
    }

    /// <summary>The environment a stored environment of flags belongs to: <c>prod</c> for <c>prod#flags</c>.</summary>
    public static string PublicEnvironment(string storedEnvironment)
    {
        ArgumentNullException.ThrowIfNull(storedEnvironment);
        var marker = storedEnvironment.IndexOf(Marker, StringComparison.Ordinal);
        return marker < 0 ? storedEnvironment : storedEnvironment[..marker];
    }

    /// <summary>
    /// Whether <paramref name="key"/> can name a flag: anything that can name a configuration key, and also
    /// <c>export</c>, which the configuration API reserves for its export route and the flag API has no use for.
    /// </summary>
    public static bool IsValidKey(string? key, [NotNullWhen(false)] out string? error)
    {
        error = null;
        return key == ConfigNames.ReservedKey || ConfigNames.IsValidKey(key, out error);
    }

    /// <summary>Whether a write may name a flag <paramref name="key"/>: a valid key in NFC (<see cref="ConfigNames.IsWritableKey"/>).</summary>
    public static bool IsWritableKey(string? key, [NotNullWhen(false)] out string? error)
    {
        error = null;
        return key == ConfigNames.ReservedKey || ConfigNames.IsWritableKey(key, out error);
    }

    /// <summary>The rule <see cref="FlagDefinitions"/> holds the keys of stored flags to: <see cref="IsValidKey"/>.</summary>
    public static FlagKeyRule KeyRule { get; } = static (string key, [NotNullWhen(false)] out string? error) => InDefinitionTerms(IsValidKey(key, out error), ref error);

    /// <summary>The rule <see cref="FlagDefinitions"/> holds the keys of flags to be stored to: <see cref="IsWritableKey"/>, in NFC.</summary>
    public static FlagKeyRule WritableKeyRule { get; } = static (string key, [NotNullWhen(false)] out string? error) => InDefinitionTerms(IsWritableKey(key, out error), ref error);

    /// <summary>An error about a key as a definition's error names it: "the key", where a request's names its field.</summary>
    static bool InDefinitionTerms(bool valid, ref string? error)
    {
        error = error?.Replace(ConfigNames.KeyField, "the key", StringComparison.Ordinal);
        return valid;
    }
}
