// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Schemas;

/// <summary>The work one schema validation may take (<c>Keel:Schemas</c>).</summary>
sealed class SchemaOptions
{
    public const string Section = "Keel:Schemas";

    /// <summary>
    /// The longest one <c>pattern</c> or <c>patternProperties</c> match may take, for a regular expression only the
    /// backtracking engine can run (one with lookarounds, backreferences or atomic groups). Every other pattern runs on the
    /// non-backtracking engine, in time linear in the text.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PatternMatchTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The most (part of a value, part of a schema) pairs one value's validation visits: the bound on schemas whose
    /// <c>anyOf</c>, <c>oneOf</c> and <c>$ref</c> multiply the work.
    /// </summary>
    [Range(100, 100_000_000)]
    public int MaxValidationSteps { get; set; } = 100_000;
}
