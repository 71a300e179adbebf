// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client;

/// <summary>One service and environment a provider reads, or the keys of it that start with a prefix.</summary>
sealed record KeelSelection(string ServiceName, string Environment, string? KeyPrefix)
{
    public static KeelSelection Create(string serviceName, string environment, string? keyPrefix)
    {
        Name(serviceName, nameof(serviceName));
        Name(environment, nameof(environment));
        if (keyPrefix is { Length: 0 })
        {
            keyPrefix = null;
        }

        return new(serviceName, environment, keyPrefix);
    }

    public bool Covers(string key) => KeyPrefix is null || key.StartsWith(KeyPrefix, StringComparison.Ordinal);

    public override string ToString() => KeyPrefix is null ? $"{ServiceName}/{Environment}" : $"{ServiceName}/{Environment}/{KeyPrefix}*";

    // The server's rule, checked here so that a typo fails at start and not as a 400 in the background.
    static void Name(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        if (value.Length > 100 || !char.IsAsciiLetterOrDigit(value[0]) || !value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ArgumentException($"'{value}' is not a Keel name: 1-100 characters of a-z 0-9 . _ -, starting with a letter or digit.", name);
        }
    }
}
