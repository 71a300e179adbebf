// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Configuration;

/// <summary>The refreshers of every Keel configuration provider of the application's configuration.</summary>
public interface IKeelConfigurationRefresherProvider
{
    /// <summary>One refresher per <c>AddKeel</c> call, in the order of the calls.</summary>
    IReadOnlyList<IKeelConfigurationRefresher> Refreshers { get; }
}
