// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;
using Microsoft.Extensions.Hosting;

namespace Keel.Client.Diagnostics;

/// <summary>Resolves the refresher provider as the host starts, so that the providers log through the host's loggers from then on.</summary>
sealed class KeelClientStartup(IKeelConfigurationRefresherProvider refreshers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = refreshers.Refreshers;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
