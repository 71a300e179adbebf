// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Transfer;

/// <summary>The file formats configuration is imported from and exported to.</summary>
public enum ConfigFileFormat
{
    /// <summary>A JSON object; nested objects are flattened to dotted keys.</summary>
    Json,

    /// <summary>A YAML mapping; nested mappings are flattened to dotted keys.</summary>
    Yaml,

    /// <summary>A <c>.env</c> file of <c>KEY=value</c> lines.</summary>
    Env,

    /// <summary>A .NET <c>appsettings.json</c>: JSON that may hold comments and trailing commas.</summary>
    AppSettings,
}

/// <summary>The wire names of <see cref="ConfigFileFormat"/>.</summary>
public static class ConfigFileFormats
{
    /// <summary>The formats an import reads, by wire name.</summary>
    public static IReadOnlyList<string> ImportNames { get; } = ["json", "yaml", "env", "appsettings"];

    /// <summary>The formats an export writes, by wire name.</summary>
    public static IReadOnlyList<string> ExportNames { get; } = ["json", "yaml", "env"];

    /// <summary>Parses a wire name.</summary>
    public static bool TryParse(string? name, out ConfigFileFormat format)
    {
        (var known, format) = name switch
        {
            "json" => (true, ConfigFileFormat.Json),
            "yaml" => (true, ConfigFileFormat.Yaml),
            "env" => (true, ConfigFileFormat.Env),
            "appsettings" => (true, ConfigFileFormat.AppSettings),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>The media type a file of the format is served as.</summary>
    public static string MediaType(this ConfigFileFormat format) => format switch
    {
        ConfigFileFormat.Yaml => "application/yaml",
        ConfigFileFormat.Env => "text/plain",
        _ => "application/json",
    };

    /// <summary>The file name extension of the format, without the dot.</summary>
    public static string Extension(this ConfigFileFormat format) => format switch
    {
        ConfigFileFormat.Yaml => "yaml",
        ConfigFileFormat.Env => "env",
        _ => "json",
    };
}
