// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Configuration;

namespace Keel.Client;

/// <summary>How the first load of a Keel configuration provider or flag client behaves when Keel cannot be reached.</summary>
public sealed class KeelStartupOptions
{
    /// <summary>
    /// How long the first load retries transient failures before it falls back to the file cache, to empty data (a flag
    /// client, or an optional configuration source) or throws; 30 seconds by default.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The least time between the start of a configuration provider's first load and a <see cref="KeelConfigurationException"/>, so that a process
    /// that exits on it and is restarted at once does not hammer Keel; 5 seconds by default.
    /// </summary>
    public TimeSpan MinDelayBeforeFailure { get; set; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        KeelRefreshOptions.Positive(Timeout, nameof(Timeout));
        if (MinDelayBeforeFailure < TimeSpan.Zero)
        {
            throw new ArgumentException("MinDelayBeforeFailure is not negative.", nameof(MinDelayBeforeFailure));
        }
    }
}
