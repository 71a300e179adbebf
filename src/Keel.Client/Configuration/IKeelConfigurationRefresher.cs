// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Configuration;

/// <summary>The running state of one Keel configuration provider, and a way to refresh it now.</summary>
/// <remarks>
/// <c>services.AddKeel()</c> registers the refresher of the first provider added with <c>AddKeel</c> as this service, and
/// all of them through <see cref="IKeelConfigurationRefresherProvider"/>.
/// </remarks>
public interface IKeelConfigurationRefresher
{
    /// <summary>Where the data comes from, how it is kept current, and how the last attempts went.</summary>
    KeelRefreshStatus Status { get; }

    /// <summary>
    /// Raised after the data changed, once per change of the flattened configuration (never for a change that leaves it as
    /// it was), on a background thread.
    /// </summary>
    event EventHandler<KeelChangedEventArgs>? Changed;

    /// <summary>Reads every selection now (a conditional read: an unchanged one costs a <c>304</c>) and applies what changed.</summary>
    /// <param name="cancellationToken">Ends the wait; the data stays as it was.</param>
    /// <returns>A task that completes when the data is current.</returns>
    /// <exception cref="KeelConfigurationException">Keel could not be reached or refused the request; the data stays as it was.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    Task RefreshAsync(CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="RefreshAsync"/>, but logs a failure instead of throwing.</summary>
    /// <param name="cancellationToken">Ends the wait; the data stays as it was.</param>
    /// <returns>Whether the data is current.</returns>
    Task<bool> TryRefreshAsync(CancellationToken cancellationToken = default);
}
