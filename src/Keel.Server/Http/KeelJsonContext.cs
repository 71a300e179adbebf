// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Core;
using Keel.Server.Audit;
using Keel.Server.Caching;
using Keel.Server.Config;
using Keel.Server.Keys;
using Keel.Server.Schemas;
using Keel.Server.Search;
using Keel.Server.Tokens;
using Keel.Server.Transfer;
using Keel.Server.Watch;
using Keel.Server.Webhooks;

namespace Keel.Server.Http;

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
[JsonSerializable(typeof(MasterKeyRewrapResponse))]
[JsonSerializable(typeof(ChangeEventResponse))]
[JsonSerializable(typeof(ChangesResponse))]
[JsonSerializable(typeof(WebhookPayload))]
[JsonSerializable(typeof(SubscribeRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(SubscriptionListResponse))]
[JsonSerializable(typeof(DeliveryResponse))]
[JsonSerializable(typeof(DeliveryListResponse))]
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
