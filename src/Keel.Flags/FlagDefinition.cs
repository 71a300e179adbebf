// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Flags.JsonLogic;

namespace Keel.Flags;

/// <summary>
/// One feature flag in flagd's definition format, checked and compiled: its variants, the variant it serves by default, and
/// the targeting rule that picks another. Built by <see cref="FlagDefinitions"/>; evaluated by <see cref="FlagEvaluator"/>.
/// </summary>
public sealed class FlagDefinition
{
    internal FlagDefinition(
        string key,
        bool enabled,
        IReadOnlyDictionary<string, LogicValue> variants,
        string? defaultVariant,
        LogicRule? targeting,
        IReadOnlyDictionary<string, LogicValue> metadata,
        string json)
    {
        Json = json;
        Key = key;
        Enabled = enabled;
        Variants = variants;
        DefaultVariant = defaultVariant;
        Targeting = targeting;
        Metadata = metadata;
    }

    /// <summary>The flag's key.</summary>
    public string Key { get; }

    /// <summary>Whether the flag is <c>ENABLED</c>; a disabled flag evaluates to no value, so callers use their own default.</summary>
    public bool Enabled { get; }

    /// <summary>The variants by name, all of one JSON type.</summary>
    public IReadOnlyDictionary<string, LogicValue> Variants { get; }

    /// <summary>The variant served without targeting, or when targeting gives null; <see langword="null"/> for the caller's default.</summary>
    public string? DefaultVariant { get; }

    /// <summary>The compiled targeting rule; <see langword="null"/> when the flag has none (or <c>{}</c>).</summary>
    public LogicRule? Targeting { get; }

    /// <summary>The flag's metadata over its flag set's (the flag's value wins), each value a string, number or boolean.</summary>
    public IReadOnlyDictionary<string, LogicValue> Metadata { get; }

    /// <summary>
    /// The definition as Keel stores and serves it, in flagd's format: shared rules put in place of their <c>$ref</c>s and the
    /// flag set's metadata merged in, so that each flag stands alone.
    /// </summary>
    public string Json { get; }
}
