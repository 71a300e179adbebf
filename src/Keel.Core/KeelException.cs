// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core;

/// <summary>
/// A failure that is the caller's to fix: bad input, a missing key, a failed precondition. It never wraps a fault of the server.
/// </summary>
public sealed class KeelException : Exception
{
    /// <summary>Creates an exception for <paramref name="error"/> with a message that says what is wrong.</summary>
    /// <param name="error">The kind of failure.</param>
    /// <param name="message">What is wrong, in words the caller can act on. Never contains a configuration value.</param>
    /// <param name="fieldErrors">Every individual problem found, when there are several.</param>
    public KeelException(KeelError error, string message, IReadOnlyList<FieldError>? fieldErrors = null)
        : base(message)
    {
        Error = error;
        FieldErrors = fieldErrors ?? [];
    }

    /// <summary>The kind of failure.</summary>
    public KeelError Error { get; }

    /// <summary>Every individual problem found; empty when the message says it all.</summary>
    public IReadOnlyList<FieldError> FieldErrors { get; }
}

/// <summary>One problem with one part of a request.</summary>
/// <param name="Path">Where the problem is: a request field name, or a JSON path such as <c>$.port</c>.</param>
/// <param name="Message">What is wrong there.</param>
public sealed record FieldError(string Path, string Message);
