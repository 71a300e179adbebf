// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;

namespace Keel.Flags;

/// <summary>
/// A rule for the keys of flags, which <see cref="FlagDefinitions"/> holds every key it reads to. The format itself takes any
/// string as a key; where the flags are kept decides which keys they may have, so the caller that keeps them brings the rule.
/// </summary>
/// <param name="key">The flag's key.</param>
/// <param name="error">When the key breaks the rule, why, as it follows "The flag key is not valid: ".</param>
/// <returns>Whether the key keeps the rule.</returns>
public delegate bool FlagKeyRule(string key, [NotNullWhen(false)] out string? error);
