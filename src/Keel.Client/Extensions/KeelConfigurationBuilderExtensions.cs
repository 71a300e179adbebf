// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;

namespace Microsoft.Extensions.Configuration;

/// <summary>Adds Keel to an application's configuration.</summary>
public static class KeelConfigurationBuilderExtensions
{
    /// <summary>
    /// Adds the keys Keel holds for the selections of <paramref name="configure"/>, kept current in the background. Keys map
    /// to configuration keys with dots as section separators (<c>db.pool.size</c> is <c>db:pool:size</c>), and <c>json</c>
    /// and <c>yaml</c> values are flattened into sections.
    /// </summary>
    /// <param name="builder">The configuration builder.</param>
    /// <param name="configure">Names the server, the token and the selections; see <see cref="KeelConfigurationOptions"/>.</param>
    /// <param name="optional">
    /// Whether the application starts with empty data, instead of failing, when Keel cannot be reached within the startup
    /// timeout and there is no file cache.
    /// </param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are incomplete or invalid.</exception>
    /// <exception cref="KeelConfigurationException">
    /// Thrown while the configuration is built: Keel could not be read within the startup timeout, there is no usable file
    /// cache, and <paramref name="optional"/> is <see langword="false"/>.
    /// </exception>
    public static IConfigurationBuilder AddKeel(this IConfigurationBuilder builder, Action<KeelConfigurationOptions> configure, bool optional = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new KeelConfigurationOptions();
        configure(options);
        return builder.Add(new KeelConfigurationSource(options, optional));
    }
}
