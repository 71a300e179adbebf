// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keel.Server.Storage;

/// <summary>Readiness: the store answers a read of its revision within two seconds.</summary>
sealed class StoreHealthCheck(IStoreLifecycle store) : IHealthCheck
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var revision = await store.GetRevisionAsync(timeout.Token);
            return HealthCheckResult.Healthy($"Store reachable at revision {revision}.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("Store unreachable.", e);
        }
    }
}
