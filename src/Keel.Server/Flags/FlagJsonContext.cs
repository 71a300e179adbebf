// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel.Server.Flags;

/// <summary>Source-generated JSON for the flag API's answers, with the API's snake_case names; definitions keep flagd's names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(FlagResponse))]
[JsonSerializable(typeof(FlagDeleteResponse))]
[JsonSerializable(typeof(FlagHistoryResponse))]
[JsonSerializable(typeof(FlagSetResponse))]
sealed partial class FlagJsonContext : JsonSerializerContext;

/// <summary>The context the flag endpoints serialize with.</summary>
static class FlagJson
{
    /// <summary><see cref="FlagJsonContext"/> with escaping limited to what JSON requires, as <c>KeelJson</c>.</summary>
    public static FlagJsonContext Context { get; } = new(new JsonSerializerOptions(FlagJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
