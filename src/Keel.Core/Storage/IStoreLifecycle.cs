// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Storage;

/// <summary>What speaks for a whole backend rather than one of its parts: its start-up and its store-wide revision.</summary>
public interface IStoreLifecycle
{
    /// <summary>Creates or migrates the backend's schema. Called once at start, before any other member of the backend.</summary>
    /// <param name="cancellationToken">Cancels the initialization.</param>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The backend's current revision: the revision of the last committed change, or 0 for an empty store.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<long> GetRevisionAsync(CancellationToken cancellationToken);
}
