// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;
using Keel.Flags.JsonLogic;

namespace Keel.Server.Flags;

/// <summary>The work one evaluation of a flag's targeting rule may do (<c>Keel:Flags</c>); see <see cref="LogicLimits"/>.</summary>
sealed class FlagOptions
{
    public const string Section = "Keel:Flags";

    /// <summary>The most operations one evaluation performs, each call inside <c>map</c>, <c>filter</c> or <c>reduce</c> counted.</summary>
    [Range(100, 100_000_000)]
    public int MaxOperations { get; set; } = LogicLimits.Default.MaxOperations;

    /// <summary>The most items and characters one evaluation's operations read.</summary>
    [Range(1_000, 1_000_000_000)]
    public int MaxIterations { get; set; } = LogicLimits.Default.MaxIterations;

    /// <summary>The most characters of strings and items of arrays one evaluation's operations build.</summary>
    [Range(1_000, 1_000_000_000)]
    public int MaxBuiltLength { get; set; } = LogicLimits.Default.MaxBuiltLength;

    /// <summary>These settings as the evaluator takes them.</summary>
    public LogicLimits Limits => field ??= new LogicLimits { MaxOperations = MaxOperations, MaxIterations = MaxIterations, MaxBuiltLength = MaxBuiltLength };
}
