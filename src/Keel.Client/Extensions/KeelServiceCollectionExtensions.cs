// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;
using Keel.Client.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the services of the Keel configuration providers of the application's configuration.</summary>
public static class KeelServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IKeelConfigurationRefresher"/> (the first Keel provider's), <see cref="IKeelConfigurationRefresherProvider"/>
    /// (all of them), the health check <c>keel</c>, and hands the providers the application's logger factory when the host
    /// starts. The <c>Keel.Client</c> meter reports whether or not this is called.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKeel(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IKeelConfigurationRefresherProvider>(sp => new KeelConfigurationRefresherProvider(
            sp.GetRequiredService<IConfiguration>(), sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<IKeelConfigurationRefresherProvider>().Refreshers is [var first, ..]
            ? first
            : throw new InvalidOperationException("The configuration has no Keel provider: call builder.Configuration.AddKeel(...) first."));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, KeelClientStartup>());
        services.AddHealthChecks().AddCheck<KeelHealthCheck>(KeelHealthCheck.Name);
        return services;
    }
}
