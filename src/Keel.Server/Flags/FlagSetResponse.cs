// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Server.Flags;

/// <summary>Flags by key, as in a flagd flag file.</summary>
sealed record FlagSetResponse(IReadOnlyDictionary<string, JsonElement> Flags);
