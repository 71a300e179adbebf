// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;

namespace Keel.Core.Configs;

/// <summary>The type a configuration value is checked against when it is written.</summary>
public enum ConfigValueType
{
    /// <summary>Any text.</summary>
    String,

    /// <summary>A JSON number, such as <c>42</c> or <c>-1.5e3</c>.</summary>
    Number,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>A JSON document.</summary>
    Json,

    /// <summary>A YAML stream.</summary>
    Yaml,
}

/// <summary>Converts <see cref="ConfigValueType"/> to and from its wire name.</summary>
public static class ConfigValueTypes
{
    /// <summary>Every wire name, in declaration order.</summary>
    public static IReadOnlyList<string> WireNames { get; } =
    [
        Core.WireNames.ValueTypes.String,
        Core.WireNames.ValueTypes.Number,
        Core.WireNames.ValueTypes.Boolean,
        Core.WireNames.ValueTypes.Json,
        Core.WireNames.ValueTypes.Yaml,
    ];

    /// <summary>Returns the wire name of <paramref name="type"/>.</summary>
    public static string ToWireName(this ConfigValueType type) => WireNames[(int)type];

    /// <summary>Parses a wire name; names are lower case and matched exactly.</summary>
    public static bool TryParse(string? name, out ConfigValueType type)
    {
        for (var i = 0; i < WireNames.Count; i++)
        {
            if (string.Equals(WireNames[i], name, StringComparison.Ordinal))
            {
                type = (ConfigValueType)i;
                return true;
            }
        }

        type = default;
        return false;
    }

    /// <summary>Parses a wire name read back from a store, where an unknown name means a corrupt or newer database.</summary>
    /// <exception cref="InvalidDataException">The name is not a known value type.</exception>
    public static ConfigValueType ParseStored(string name) =>
        TryParse(name, out var type) ? type : ThrowUnknown<ConfigValueType>("value type", name);

    [DoesNotReturn]
    internal static T ThrowUnknown<T>(string what, string name) =>
        throw new InvalidDataException($"The store holds an unknown {what} '{name}'.");
}
