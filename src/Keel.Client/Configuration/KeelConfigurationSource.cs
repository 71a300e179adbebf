// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Configuration;

namespace Keel.Client.Configuration;

/// <summary>The configuration source <c>AddKeel</c> adds; each <see cref="Build"/> makes a provider with its own refresh loop.</summary>
public sealed class KeelConfigurationSource : IConfigurationSource
{
    readonly KeelConfigurationOptions _options;

    internal KeelConfigurationSource(KeelConfigurationOptions options, bool optional)
    {
        options.Validate();
        _options = options;
        Optional = optional;
    }

    /// <summary>Whether the application starts with empty data (instead of failing) when Keel cannot be reached and there is no file cache.</summary>
    public bool Optional { get; }

    /// <inheritdoc/>
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new KeelConfigurationProvider(_options, Optional);
}
