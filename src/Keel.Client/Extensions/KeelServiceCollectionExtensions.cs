// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;
using Keel.Client.Diagnostics;
using Keel.Client.Flags;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the services of Keel's configuration providers and flag client.</summary>
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
        AddHealthCheck(services);
        return services;
    }

    /// <summary>
    /// Registers a <see cref="KeelFlagClient"/> for the flags <paramref name="configure"/> selects, started (its first read
    /// awaited, within its startup timeout) as the host starts, logging through the application's logger factory unless the
    /// options name one, and covered by the health check <c>keel</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Names the server, the token and the flags; see <see cref="KeelFlagOptions"/>.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentException">The options are incomplete or invalid.</exception>
    /// <exception cref="InvalidOperationException">A flag client is registered already.</exception>
    public static IServiceCollection AddKeelFlags(this IServiceCollection services, Action<KeelFlagOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        // Checked now, so that a mistake fails at registration and not at the first request.
        var options = new KeelFlagOptions();
        configure(options);
        options.Validate();
        return AddFlagClient(services, _ => options);
    }

    /// <summary>
    /// Registers a <see cref="KeelFlagClient"/> whose options are made with the application's services (its configuration,
    /// a token source), as <see cref="AddKeelFlags(IServiceCollection, Action{KeelFlagOptions})"/> does.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Names the server, the token and the flags; called once, when the client is first resolved.</param>
    /// <returns>The services.</returns>
    /// <exception cref="InvalidOperationException">A flag client is registered already.</exception>
    public static IServiceCollection AddKeelFlags(this IServiceCollection services, Action<IServiceProvider, KeelFlagOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return AddFlagClient(services, sp =>
        {
            var options = new KeelFlagOptions();
            configure(sp, options);
            return options;
        });
    }

    static IServiceCollection AddFlagClient(IServiceCollection services, Func<IServiceProvider, KeelFlagOptions> makeOptions)
    {
        if (services.Any(d => d.ServiceType == typeof(KeelFlagClient)))
        {
            throw new InvalidOperationException("A Keel flag client is registered already: AddKeelFlags is called once per application.");
        }

        services.AddSingleton(sp =>
        {
            var options = makeOptions(sp);
            if (options.LoggerFactory is null && sp.GetService<ILoggerFactory>() is { } loggers)
            {
                options.UseLoggerFactory(loggers);
            }

            return new KeelFlagClient(options);
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, KeelFlagStartup>());
        AddHealthCheck(services);
        return services;
    }

    /// <summary>One health check covers every Keel source, whichever of the calls above registers it.</summary>
    static void AddHealthCheck(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(KeelHealthCheck)))
        {
            return;
        }

        services.AddSingleton<KeelHealthCheck>();
        services.AddHealthChecks().AddCheck<KeelHealthCheck>(KeelHealthCheck.Name);
    }
}
