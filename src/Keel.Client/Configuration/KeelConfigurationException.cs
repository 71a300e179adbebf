// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Configuration;

/// <summary>Keel's configuration could not be loaded or refreshed.</summary>
public sealed class KeelConfigurationException : Exception
{
    /// <summary>An exception without a message.</summary>
    public KeelConfigurationException()
    {
    }

    /// <summary>An exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public KeelConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public KeelConfigurationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status Keel answered with, when it answered.</summary>
    public int? StatusCode { get; init; }
}
