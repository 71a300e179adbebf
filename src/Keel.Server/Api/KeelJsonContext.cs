// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Core;
using Keel.Server.Caching;

namespace Keel.Server.Api;

/// <summary>
/// Source-generated JSON for every body the API reads or writes: snake_case names, and strict reading (unknown and mistyped
/// fields are errors, never silently dropped; <see cref="JsonBody"/> refuses repeated fields).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    MaxDepth = 65)]
[JsonSerializable(typeof(PutConfigRequest))]
[JsonSerializable(typeof(BatchGetRequest))]
[JsonSerializable(typeof(RollbackRequest))]
[JsonSerializable(typeof(ConfigResponse))]
[JsonSerializable(typeof(BatchGetResponse))]
[JsonSerializable(typeof(DeleteResponse))]
[JsonSerializable(typeof(HistoryResponse))]
[JsonSerializable(typeof(RollbackResponse))]
[JsonSerializable(typeof(ListResponse))]
[JsonSerializable(typeof(CacheStatistics))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(TokenListResponse))]
[JsonSerializable(typeof(AuditResponse))]
[JsonSerializable(typeof(EncryptionKeysResponse))]
[JsonSerializable(typeof(KeyRotationResponse))]
[JsonSerializable(typeof(Watch.ChangeEventResponse))]
[JsonSerializable(typeof(Watch.ChangesResponse))]
[JsonSerializable(typeof(Webhooks.WebhookPayload))]
[JsonSerializable(typeof(Webhooks.SubscribeRequest))]
[JsonSerializable(typeof(Webhooks.SubscriptionResponse))]
[JsonSerializable(typeof(Webhooks.SubscriptionListResponse))]
[JsonSerializable(typeof(Webhooks.DeliveryResponse))]
[JsonSerializable(typeof(Webhooks.DeliveryListResponse))]
[JsonSerializable(typeof(IReadOnlyList<FieldError>))]
[JsonSerializable(typeof(BatchSetRequest))]
[JsonSerializable(typeof(BatchSetResponse))]
[JsonSerializable(typeof(ImportResponse))]
[JsonSerializable(typeof(SchemaResponse))]
[JsonSerializable(typeof(SchemaListResponse))]
[JsonSerializable(typeof(SchemaCheckResponse))]
[JsonSerializable(typeof(SearchResponse))]
sealed partial class KeelJsonContext : JsonSerializerContext;

/// <summary>The context every endpoint serializes with.</summary>
static class KeelJson
{
    /// <summary>
    /// <see cref="KeelJsonContext"/> with escaping limited to what JSON requires: answers are application/json, never embedded
    /// in HTML, so quotes and non-ASCII text go out as themselves.
    /// </summary>
    public static KeelJsonContext Context { get; } = new(new JsonSerializerOptions(KeelJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
