// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Flags;

/// <summary>
/// A flag definition, or a file of them, that <see cref="FlagDefinitions"/> refuses: what is wrong, and every problem found
/// by the JSON path where it is.
/// </summary>
public sealed class FlagDefinitionException : Exception
{
    /// <summary>Creates an exception that says what is wrong with a definition.</summary>
    /// <param name="message">What is wrong, in words its author can act on.</param>
    /// <param name="fieldErrors">Every individual problem found, when there are several.</param>
    public FlagDefinitionException(string message, IReadOnlyList<FlagDefinitionError>? fieldErrors = null)
        : base(message)
    {
        FieldErrors = fieldErrors ?? [];
    }

    /// <summary>Every individual problem found; empty when the message says it all.</summary>
    public IReadOnlyList<FlagDefinitionError> FieldErrors { get; }
}

/// <summary>One problem with one part of a flag definition.</summary>
/// <param name="Path">Where the problem is, as a JSON path such as <c>$.flags.beta.state</c>.</param>
/// <param name="Message">What is wrong there.</param>
public sealed record FlagDefinitionError(string Path, string Message);
