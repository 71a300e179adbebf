// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Configs;

namespace Keel.Server.Http;

/// <summary>Reads query parameters strictly: a parameter given twice or out of range is an error, never silently ignored.</summary>
static partial class QueryParameters
{
    public static long Integer(IQueryCollection query, string name, long defaultValue, long min, long max) =>
        Integer(query, name, min, max) ?? defaultValue;

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>; <see langword="null"/> when absent.</summary>
    public static long? Integer(IQueryCollection query, string name, long min, long max)
    {
        var values = query[name];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count == 1
            && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max)
        {
            return value;
        }

        var range = max == long.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"an integer of at least {min}")
            : string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}");
        throw new KeelException(KeelError.InvalidRequest, $"{name} must be {range}.", [new FieldError(name, $"{name} must be {range}.")]);
    }

    /// <summary>A parameter given at most once; <see langword="null"/> when absent.</summary>
    public static string? Single(IQueryCollection query, string name)
    {
        var values = query[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw Invalid(name, $"{name} must be given at most once."),
        };
    }

    /// <summary>A valid service name; <see langword="null"/> when absent.</summary>
    public static string? ServiceName(IQueryCollection query)
    {
        var name = Single(query, ConfigNames.ServiceNameField);
        return name is null || ConfigNames.IsValidServiceName(name, out var error) ? name : throw Invalid(ConfigNames.ServiceNameField, error);
    }

    /// <summary>A valid environment name; <see langword="null"/> when absent.</summary>
    public static string? Environment(IQueryCollection query)
    {
        var name = Single(query, ConfigNames.EnvironmentField);
        return name is null || ConfigNames.IsValidEnvironment(name, out var error) ? name : throw Invalid(ConfigNames.EnvironmentField, error);
    }

    /// <summary>An RFC 3339 timestamp with an offset; <see langword="null"/> when absent.</summary>
    public static DateTimeOffset? Timestamp(IQueryCollection query, string name)
    {
        var text = Single(query, name);
        if (text is null)
        {
            return null;
        }

        if (OffsetSuffix().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            return value;
        }

        throw Invalid(name, $"{name} must be an RFC 3339 timestamp with an offset, such as 2026-01-02T03:04:05Z.");
    }

    public static KeelException Invalid(string name, string message) =>
        new(KeelError.InvalidRequest, message, [new FieldError(name, message)]);

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|z|[+-]\d{2}:\d{2})$")]
    private static partial System.Text.RegularExpressions.Regex OffsetSuffix();

    /// <summary>A flag such as <c>?dry_run=true</c>: absent or <c>false</c> is false, <c>true</c> or a bare name is true.</summary>
    public static bool Boolean(IQueryCollection query, string name) => Single(query, name) switch
    {
        null or "false" => false,
        "true" or "" => true,
        _ => throw Invalid(name, $"{name} must be true or false."),
    };
}
