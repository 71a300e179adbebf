// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Client.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keel.Client.Diagnostics;

/// <summary>
/// The health check <c>keel</c>: Healthy while every Keel provider holds data from Keel and its last attempt succeeded;
/// Degraded while one serves its file cache or its last attempt failed (it keeps its last good data); Unhealthy while one
/// has no data at all.
/// </summary>
sealed class KeelHealthCheck(IKeelConfigurationRefresherProvider refreshers) : IHealthCheck
{
    public const string Name = "keel";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var worst = HealthStatus.Healthy;
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        string? description = null;
        for (var i = 0; i < refreshers.Refreshers.Count; i++)
        {
            var status = refreshers.Refreshers[i].Status;
            var health = status switch
            {
                { Source: KeelDataSource.None } => HealthStatus.Unhealthy,
                { Source: KeelDataSource.Cache } or { LastError: not null } => HealthStatus.Degraded,
                _ => HealthStatus.Healthy,
            };
            var prefix = refreshers.Refreshers.Count == 1 ? "" : i.ToString(CultureInfo.InvariantCulture) + ".";
            data[prefix + "source"] = status.Source.ToString();
            data[prefix + "transport"] = status.Transport.ToString();
            data[prefix + "revision"] = status.Revision;
            if (status.LastSuccess is { } success)
            {
                data[prefix + "last_success"] = success;
            }

            if (health < worst)
            {
                worst = health;
                description = status switch
                {
                    { Source: KeelDataSource.None } => "No configuration from Keel yet, and no file cache.",
                    { Source: KeelDataSource.Cache } => "Serving the last-known-good file cache; Keel cannot be reached.",
                    _ => "Keel cannot be reached; the last good configuration stays in use.",
                };
            }
        }

        return Task.FromResult(new HealthCheckResult(worst, description, exception: null, data));
    }
}
