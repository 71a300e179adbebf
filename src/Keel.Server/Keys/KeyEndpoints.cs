// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keel.Server.Keys;

/// <summary>Encryption key management under <c>/api/v1/admin/keys</c>; admin only.</summary>
static class KeyEndpoints
{
    public static IEndpointRouteBuilder MapKeyEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var keys = endpoints.MapGroup("/api/v1/admin/keys").WithTags("Encryption keys").RequireAuthorization(KeelPolicies.Admin).CheckRoutes();

        keys.MapGet("/", ListAsync)
            .WithName("ListEncryptionKeys")
            .WithSummary("Lists the data keys in use (never their bytes) and which one is active.");

        keys.MapPost("/rotate", RotateAsync)
            .WithName("RotateEncryptionKey")
            .WithSummary("Makes a new data key active and re-encrypts every encrypted value and history version with it, online; answers when done.");

        keys.MapPost("/rewrap", RewrapAsync)
            .WithName("RewrapDataKeys")
            .WithSummary("Reads the master key again from its key file and wraps every data key under it, online; the key it replaces still unwraps in memory. Answers when done.");

        return endpoints;
    }

    static async Task<JsonHttpResult<EncryptionKeysResponse>> ListAsync(
        HttpContext httpContext, IEncryptionKeyStore keys, CancellationToken cancellationToken)
    {
        var list = await keys.ListEncryptionKeysAsync(cancellationToken);
        return TypedResults.Json(
            new EncryptionKeysResponse(list.Single(k => k.IsActive).Id, list.Select(EncryptionKeyItem.From).ToList()),
            KeelJson.Context.EncryptionKeysResponse);
    }

    static async Task<JsonHttpResult<KeyRotationResponse>> RotateAsync(
        HttpContext httpContext, IEncryptionKeyStore keys, IHostApplicationLifetime lifetime, ILogger<KeyRotationResponse> logger)
    {
        var actor = httpContext.Actor();

        // A client that hangs up does not stop the rotation; shutting down does, and the next rotation finishes the rest.
        var result = await keys.RotateEncryptionKeyAsync(actor, lifetime.ApplicationStopping);
        Log.KeyRotated(logger, result.ActiveKeyId, actor.Name);
        return TypedResults.Json(KeyRotationResponse.From(result), KeelJson.Context.KeyRotationResponse);
    }

    static async Task<JsonHttpResult<MasterKeyRewrapResponse>> RewrapAsync(
        HttpContext httpContext, IEncryptionKeyStore keys, IHostApplicationLifetime lifetime, ILogger<MasterKeyRewrapResponse> logger)
    {
        var actor = httpContext.Actor();

        // As with a rotation, hanging up does not stop it midway; each data key is wrapped again in a commit of its own anyway.
        var result = await keys.RewrapDataKeysAsync(actor, lifetime.ApplicationStopping);
        Log.DataKeysRewrapped(logger, result.MasterKeyId, actor.Name, result.RewrappedKeyIds.Count);
        return TypedResults.Json(MasterKeyRewrapResponse.From(result), KeelJson.Context.MasterKeyRewrapResponse);
    }
}
