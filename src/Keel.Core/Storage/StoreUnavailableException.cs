// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Storage;

/// <summary>
/// The store cannot serve a request right now (locked, out of space, an I/O error, unreachable). Nothing was changed, and the
/// same request may succeed later.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception with what the backend reported.</summary>
    /// <param name="message">What is unavailable, without any configuration value.</param>
    /// <param name="innerException">The backend's own exception.</param>
    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
