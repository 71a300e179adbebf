// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Server.Caching;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Keel.Server.Config;

/// <summary>The configuration API under <c>/api/v1/config</c>.</summary>
static class ConfigEndpoints
{
    // The listing's cursor: the last key of the page before.
    const string CursorMarker = "l1:";

    public static IEndpointRouteBuilder MapConfigEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var config = endpoints.MapGroup("/api/v1/config").WithTags("Configuration").CheckRoutes();

        config.MapPost("/batch", BatchGetAsync)
            .WithName("GetConfigBatch")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Reads up to 1,000 keys of one service and environment.")
            .Accepts<BatchGetRequest>("application/json");

        // HEAD answers as GET without the body, so that a client can check a key's existence and ETag cheaply.
        config.MapMethods("/{service_name}/{environment}", [HttpMethods.Get, HttpMethods.Head], ListAsync)
            .WithName("ListConfig")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Reads every live key of a service and environment, with the store revision they were read at.");

        config.MapMethods("/{service_name}/{environment}/{config_key}", [HttpMethods.Get, HttpMethods.Head], GetAsync)
            .WithName("GetConfig")
            .RequireAuthorization(KeelPolicies.Read)
            .Produces<ConfigResponse>()
            .WithSummary("Reads a key's live value. Answers If-None-Match with 304.");

        config.MapPut("/{service_name}/{environment}/{config_key}", PutAsync)
            .WithName("PutConfig")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Write)
            .WithSummary("Creates or updates a key. Honours If-Match and If-None-Match: *.")
            .Accepts<PutConfigRequest>("application/json");

        config.MapDelete("/{service_name}/{environment}/{config_key}", DeleteAsync)
            .WithName("DeleteConfig")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Remove)
            .WithSummary("Deletes a key, leaving a tombstone version in its history. Honours If-Match.");

        config.MapGet("/{service_name}/{environment}/{config_key}/history", HistoryAsync)
            .WithName("GetConfigHistory")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Lists a key's versions, newest first.");

        config.MapPost("/{service_name}/{environment}/{config_key}/rollback", RollbackAsync)
            .WithName("RollbackConfig")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Write)
            .WithSummary("Gives a key the value and type of an earlier version, as a new version. Honours If-Match.")
            .Accepts<RollbackRequest>("application/json");

        return endpoints;
    }

    static async Task<Results<RenderedJson, StatusCodeHttpResult, ProblemHttpResult>> GetAsync(
        [AsParameters] ConfigRoute route, HttpContext httpContext, CachingConfigStore store, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var cached = await store.ReadAsync(id, cancellationToken);
        if (!cached.Exists)
        {
            return NotFound(id);
        }

        var reveal = httpContext.CanReadSecrets();
        if (reveal && cached.DecryptionFailed)
        {
            throw new KeelException(
                KeelError.DecryptionFailed,
                $"The stored value of key '{id.Key}' version {cached.Version} fails authenticated decryption; it was altered or its key is missing. Roll back to a good version or write the key again.");
        }

        // A masked and a revealed answer share the version's tag: they hold the same value, shown to different tokens.
        var etag = EntityTags.ForVersion(cached.Version);
        var headers = httpContext.Response.Headers;
        headers.ETag = etag;
        headers.Vary = "Authorization";
        if (EntityTags.IfNoneMatchHits(httpContext.Request, etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return new RenderedJson(reveal ? cached.RevealedAnswer! : cached.Answer!);
    }

    static async Task<JsonHttpResult<ConfigResponse>> PutAsync(
        [AsParameters] ConfigRoute route, HttpContext httpContext, [AsParameters] WriteServices services, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var condition = EntityTags.WriteCondition(httpContext.Request, allowIfNoneMatch: true);
        var body = await JsonBody.ReadAsync(httpContext.Request, KeelJson.Context.PutConfigRequest, cancellationToken);
        var (value, type) = ConfigWriteInput.ReadValue(body, services.Limits.Value);
        var change = await services.Writes.SetAsync(
            new SetConfigRequest
            {
                Id = id,
                Value = value,
                ValueType = type,
                ChangeDescription = body.ChangeDescription,
                Actor = httpContext.Actor(),
                Condition = condition,
                Encrypt = body.Encrypt,
            },
            cancellationToken);

        httpContext.Response.Headers.ETag = EntityTags.ForVersion(change.Version);
        var created = change.ChangeType == ChangeType.Create;
        if (created)
        {
            httpContext.Response.Headers.Location = KeyPath(id);
        }

        return TypedResults.Json(
            ConfigResponse.From(change.Entry!, httpContext.CanReadSecrets(), change.Revision),
            KeelJson.Context.ConfigResponse,
            statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    static async Task<JsonHttpResult<DeleteResponse>> DeleteAsync(
        [AsParameters] ConfigRoute route, HttpContext httpContext, ConfigWritePipeline writes, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var condition = EntityTags.WriteCondition(httpContext.Request, allowIfNoneMatch: false);
        var change = await writes.DeleteAsync(
            new DeleteConfigRequest { Id = id, Actor = httpContext.Actor(), Condition = condition }, cancellationToken);

        return TypedResults.Json(
            new DeleteResponse(true, $"Key '{id.Key}' deleted; version {change.Version} records the delete.", change.Version, change.Revision),
            KeelJson.Context.DeleteResponse);
    }

    static async Task<Results<JsonHttpResult<HistoryResponse>, ProblemHttpResult>> HistoryAsync(
        [AsParameters] ConfigRoute route, HttpContext httpContext, IConfigStore store, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var page = HistoryPage.From(httpContext.Request.Query);
        var versions = await store.GetHistoryAsync(id, page.Limit, page.Before, cancellationToken);
        var reveal = httpContext.CanReadSecrets();
        if (versions is null)
        {
            return NotFound(id);
        }

        var (items, next) = page.Bound(
            versions.Select(v => HistoryItem.From(v, reveal)).ToList(), static i => i.Version, static i => i.ConfigValue, limits.Value.MaxAnswerBytes);
        return TypedResults.Json(new HistoryResponse(id.Key, items, next), KeelJson.Context.HistoryResponse);
    }

    static async Task<JsonHttpResult<RollbackResponse>> RollbackAsync(
        [AsParameters] ConfigRoute route, HttpContext httpContext, [AsParameters] WriteServices services, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var condition = EntityTags.WriteCondition(httpContext.Request, allowIfNoneMatch: false);
        var (body, target) = await RollbackRequest.ReadAsync(httpContext.Request, services.Limits.Value, cancellationToken);
        var change = await services.Writes.RollbackAsync(
            new RollbackConfigRequest
            {
                Id = id,
                TargetVersion = target,
                ChangeDescription = body.ChangeDescription,
                Actor = httpContext.Actor(),
                Condition = condition,
            },
            httpContext.CanReadSecrets(),
            cancellationToken);

        httpContext.Response.Headers.ETag = EntityTags.ForVersion(change.Version);
        return TypedResults.Json(RollbackResponse.From(change, target), KeelJson.Context.RollbackResponse);
    }

    static async Task<Results<JsonHttpResult<ListResponse>, StatusCodeHttpResult>> ListAsync(
        [AsParameters] ScopeRoute route,
        HttpContext httpContext,
        IConfigStore store,
        SnapshotReads reads,
        IOptions<LimitsOptions> limits,
        CancellationToken cancellationToken)
    {
        httpContext.Response.Headers.Vary = "Authorization";

        // The tag is the revision of the scope's last change, deletes included: any change to the listing changes it.
        if (httpContext.Request.Headers.IfNoneMatch.Count > 0)
        {
            var last = await store.GetLastRevisionAsync(route.ServiceName, route.Environment, cancellationToken);
            var currentTag = EntityTags.ForListing(last);
            if (EntityTags.IfNoneMatchHits(httpContext.Request, currentTag))
            {
                httpContext.Response.Headers.ETag = currentTag;
                return TypedResults.StatusCode(StatusCodes.Status304NotModified);
            }
        }

        var after = Cursors.Read(httpContext.Request.Query, CursorMarker);
        if (after is not null && !ConfigNames.IsValidKey(after, out _))
        {
            throw Cursors.Invalid();
        }

        var snapshot = await reads.ListAsync(httpContext, route.ServiceName, route.Environment, cancellationToken, after);
        var reveal = httpContext.CanReadSecrets();
        var configs = snapshot.Entries.Select(e => ListItem.From(e, reveal)).ToList();

        // Past the byte bound the answer is a page, and its cursor names the last key shown: the next page starts after it.
        var fit = AnswerBudget.Fit(configs, static c => c.ConfigValue, limits.Value.MaxAnswerBytes);
        string? next = null;
        if (fit < configs.Count)
        {
            configs.RemoveRange(fit, configs.Count - fit);
            next = Cursors.Encode(CursorMarker, configs[^1].ConfigKey);
        }

        httpContext.Response.Headers.ETag = EntityTags.ForListing(snapshot.LastChangeRevision);
        return TypedResults.Json(
            new ListResponse(route.ServiceName, route.Environment, snapshot.Revision, configs, next),
            KeelJson.Context.ListResponse);
    }

    static async Task<JsonHttpResult<BatchGetResponse>> BatchGetAsync(
        HttpContext httpContext, IConfigStore store, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(httpContext.Request, KeelJson.Context.BatchGetRequest, cancellationToken);
        var (serviceName, environment, keys) = ValidateBatch(body);
        httpContext.EnsureCovers(serviceName, environment);
        var reveal = httpContext.CanReadSecrets();

        var entries = await store.GetManyAsync(serviceName, environment, keys, cancellationToken);
        var byKey = entries.ToDictionary(e => e.Id.Key, StringComparer.Ordinal);
        var configs = new List<BatchConfigItem>(entries.Count);
        var missing = new List<string>();
        foreach (var key in keys)
        {
            if (byKey.TryGetValue(key, out var entry))
            {
                configs.Add(BatchConfigItem.From(entry, reveal));
            }
            else
            {
                missing.Add(key);
            }
        }

        // Keys past the byte bound are named, for the caller to ask for again.
        var fit = AnswerBudget.Fit(configs, static c => c.ConfigValue, limits.Value.MaxAnswerBytes);
        var deferred = configs.Skip(fit).Select(c => c.ConfigKey).ToList();
        configs.RemoveRange(fit, configs.Count - fit);
        return TypedResults.Json(new BatchGetResponse(configs, missing, deferred), KeelJson.Context.BatchGetResponse);
    }

    static (string ServiceName, string Environment, IReadOnlyList<string> Keys) ValidateBatch(BatchGetRequest body)
    {
        List<FieldError> missing = [];
        ConfigWriteInput.Require(missing, body.ServiceName, ConfigNames.ServiceNameField);
        ConfigWriteInput.Require(missing, body.Environment, ConfigNames.EnvironmentField);
        ConfigWriteInput.Require(missing, body.ConfigKeys, "config_keys");

        ConfigWriteInput.ThrowIfMissing(missing);

        if (body.ConfigKeys!.Count > LimitsOptions.MaxBatchKeys)
        {
            throw new KeelException(
                KeelError.InvalidRequest,
                $"A batch reads at most {LimitsOptions.MaxBatchKeys} keys; this one asks for {body.ConfigKeys.Count}.",
                [new FieldError("config_keys", $"config_keys must hold at most {LimitsOptions.MaxBatchKeys} keys.")]);
        }

        List<FieldError> invalid = [];
        ConfigNames.AddErrors(invalid, body.ServiceName, body.Environment);

        var keys = new List<string>(body.ConfigKeys.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < body.ConfigKeys.Count; i++)
        {
            var key = body.ConfigKeys[i];
            if (!ConfigNames.IsValidKey(key, out var keyError))
            {
                invalid.Add(new FieldError(string.Create(CultureInfo.InvariantCulture, $"config_keys[{i}]"), keyError));
            }
            else if (seen.Add(key))
            {
                keys.Add(key);
            }
        }

        if (invalid.Count > 0)
        {
            throw ConfigNames.InvalidName(invalid);
        }

        return (body.ServiceName!, body.Environment!, keys);
    }

    static ProblemHttpResult NotFound(ConfigId id) =>
        Problems.Result(KeelError.ConfigNotFound, $"Key '{id.Key}' does not exist in {id.ServiceName}/{id.Environment}.");

    static string KeyPath(ConfigId id) =>
        $"/api/v1/config/{id.ServiceName}/{id.Environment}/{Uri.EscapeDataString(id.Key)}";
}
