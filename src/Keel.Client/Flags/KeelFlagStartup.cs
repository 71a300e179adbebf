// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Hosting;

namespace Keel.Client.Flags;

/// <summary>Starts the flag client as the host starts, so that the application serves requests with its flags in hand.</summary>
sealed class KeelFlagStartup(KeelFlagClient client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => client.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
