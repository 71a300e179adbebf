// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Keel.Client.Configuration;

/// <summary>Finds the Keel providers of the application's configuration, and hands them its logger factory.</summary>
sealed class KeelConfigurationRefresherProvider : IKeelConfigurationRefresherProvider
{
    public KeelConfigurationRefresherProvider(IConfiguration configuration, ILoggerFactory? loggerFactory)
    {
        var providers = configuration is IConfigurationRoot root
            ? root.Providers.OfType<KeelConfigurationProvider>().ToList()
            : [];
        if (loggerFactory is not null)
        {
            foreach (var provider in providers)
            {
                provider.UseLoggerFactory(loggerFactory);
            }
        }

        Refreshers = providers;
    }

    public IReadOnlyList<IKeelConfigurationRefresher> Refreshers { get; }
}
