// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Client.Configuration;
using Keel.Client.Flags;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keel.Client.Diagnostics;

/// <summary>
/// The health check <c>keel</c>, over every Keel configuration provider and the flag client the application has: Healthy
/// while each holds data from Keel and its last attempt succeeded; Degraded while one serves its file cache or its last
/// attempt failed (it keeps its last good data); Unhealthy while one has no data at all.
/// </summary>
sealed class KeelHealthCheck(IServiceProvider services) : IHealthCheck
{
    public const string Name = "keel";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        List<(string Label, string Kind, KeelRefreshStatus Status)> sources = [];
        if (services.GetService<IKeelConfigurationRefresherProvider>() is { } refreshers)
        {
            sources.AddRange(refreshers.Refreshers.Select((r, i) => (i.ToString(CultureInfo.InvariantCulture), "configuration", r.Status)));
        }

        if (services.GetService<KeelFlagClient>() is { } flags)
        {
            sources.Add(("flags", "flags", flags.Status));
        }

        var worst = HealthStatus.Healthy;
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        string? description = null;
        foreach (var (label, kind, status) in sources)
        {
            var health = status switch
            {
                { Source: KeelDataSource.None } => HealthStatus.Unhealthy,
                { Source: KeelDataSource.Cache } or { LastError: not null } => HealthStatus.Degraded,
                _ => HealthStatus.Healthy,
            };
            var prefix = sources.Count == 1 ? "" : label + ".";
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
                    { Source: KeelDataSource.None } => $"No {kind} from Keel yet, and no file cache.",
                    { Source: KeelDataSource.Cache } => $"Serving the last-known-good file cache of the {kind}; Keel cannot be reached.",
                    _ => $"Keel cannot be reached; the last good {kind} stay in use.",
                };
            }
        }

        return Task.FromResult(new HealthCheckResult(worst, description, exception: null, data));
    }
}
