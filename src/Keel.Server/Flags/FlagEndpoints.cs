// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Storage;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Keel.Server.Config;
using Keel.Server.Http;
using Keel.Server.Security;
using Keel.Server.Transfer;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Keel.Server.Flags;

/// <summary>
/// Feature flags under <c>/api/v1/flags</c>: definitions in flagd's format, per service and environment, stored beside the
/// configuration (see <see cref="FlagStorage"/>) with the same versions, history, rollback, audit and change feed.
/// </summary>
static class FlagEndpoints
{
    public static IEndpointRouteBuilder MapFlagEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var flags = endpoints.MapGroup("/api/v1/flags").WithTags("Feature flags").CheckRoutes();

        flags.MapGet("/{service_name}/{environment}", ListAsync)
            .WithName("ListFlags")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Reads every flag of a service and environment, as a flagd flag file.");

        flags.MapPost("/{service_name}/{environment}/import", ImportAsync)
            .WithName("ImportFlags")
            .RequireAuthorization(KeelPolicies.Write)
            .WithSummary("Writes every flag of a flagd flag file as one revision, all or nothing; ?prune=true also deletes flags the file lacks, ?dry_run=true only says what would change.");

        flags.MapGet("/{service_name}/{environment}/{flag_key}", GetAsync)
            .WithName("GetFlag")
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Reads a flag's definition. Answers If-None-Match with 304.");

        flags.MapPut("/{service_name}/{environment}/{flag_key}", PutAsync)
            .WithName("PutFlag")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Write)
            .WithSummary("Creates or replaces a flag; the body is its definition in flagd's format. Honours If-Match and If-None-Match: *.");

        flags.MapDelete("/{service_name}/{environment}/{flag_key}", DeleteAsync)
            .WithName("DeleteFlag")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Remove)
            .WithSummary("Deletes a flag, leaving a tombstone version in its history. Honours If-Match.");

        flags.MapGet("/{service_name}/{environment}/{flag_key}/history", HistoryAsync)
            .WithName("GetFlagHistory")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Lists a flag's versions, newest first.");

        flags.MapPost("/{service_name}/{environment}/{flag_key}/rollback", RollbackAsync)
            .WithName("RollbackFlag")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Write)
            .WithSummary("Gives a flag the definition of an earlier version, as a new version. Honours If-Match.")
            .Accepts<RollbackRequest>("application/json");

        return endpoints;
    }

    static async Task<Results<JsonHttpResult<FlagResponse>, StatusCodeHttpResult>> GetAsync(
        [AsParameters] FlagRoute route, HttpContext httpContext, IConfigStore store, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var entry = await store.GetAsync(route.StoredId, cancellationToken) ?? throw NotFound(id);
        var etag = EntityTags.ForVersion(entry.Version);
        httpContext.Response.Headers.ETag = etag;
        if (EntityTags.IfNoneMatchHits(httpContext.Request, etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Json(FlagResponse.From(id.Environment, entry), FlagJson.Context.FlagResponse);
    }

    static async Task<JsonHttpResult<FlagResponse>> PutAsync(
        [AsParameters] FlagRoute route,
        HttpContext httpContext,
        [AsParameters] WriteServices services,
        IOptions<FlagOptions> flags,
        CancellationToken cancellationToken)
    {
        var id = route.Id;
        var condition = EntityTags.WriteCondition(httpContext.Request, allowIfNoneMatch: true);
        var definition = await ReadDefinitionAsync(httpContext.Request, id.Key, services.Limits.Value, flags.Value.Limits, cancellationToken);
        var change = await services.Writes.SetAsync(
            new SetConfigRequest
            {
                Id = route.StoredId,
                Value = definition.Json,
                ValueType = ConfigValueType.Json,
                Actor = httpContext.Actor(),
                Condition = condition,
            },
            cancellationToken);

        httpContext.Response.Headers.ETag = EntityTags.ForVersion(change.Version);
        var created = change.ChangeType == ChangeType.Create;
        if (created)
        {
            httpContext.Response.Headers.Location = $"/api/v1/flags/{id.ServiceName}/{id.Environment}/{Uri.EscapeDataString(id.Key)}";
        }

        return TypedResults.Json(
            FlagResponse.From(id.Environment, change.Entry!, change.Revision),
            FlagJson.Context.FlagResponse,
            statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    static async Task<JsonHttpResult<FlagDeleteResponse>> DeleteAsync(
        [AsParameters] FlagRoute route, HttpContext httpContext, ConfigWritePipeline writes, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var condition = EntityTags.WriteCondition(httpContext.Request, allowIfNoneMatch: false);
        var change = await InFlagTermsAsync(id, () => writes.DeleteAsync(
            new DeleteConfigRequest { Id = route.StoredId, Actor = httpContext.Actor(), Condition = condition }, cancellationToken));
        return TypedResults.Json(
            new FlagDeleteResponse(true, $"Flag '{id.Key}' deleted; version {change.Version} records the delete.", change.Version, change.Revision),
            FlagJson.Context.FlagDeleteResponse);
    }

    static async Task<JsonHttpResult<FlagHistoryResponse>> HistoryAsync(
        [AsParameters] FlagRoute route, HttpContext httpContext, IConfigStore store, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var page = HistoryPage.From(httpContext.Request.Query);
        var stored = await store.GetHistoryAsync(route.StoredId, page.Limit, page.Before, cancellationToken) ?? throw NotFound(id);
        var (versions, next) = page.Bound(stored, static v => v.Version, static v => v.Value, limits.Value.MaxAnswerBytes);
        return TypedResults.Json(
            new FlagHistoryResponse(
                id.Key,
                [.. versions.Select(v => new FlagHistoryItem(
                    v.Version,
                    v.Value is null ? null : FlagResponse.Parse(v.Value),
                    v.ChangeDescription,
                    v.ChangeType.ToWireName(),
                    v.CreatedAt.UtcDateTime,
                    v.CreatedBy,
                    v.Revision))],
                next),
            FlagJson.Context.FlagHistoryResponse);
    }

    static async Task<JsonHttpResult<FlagResponse>> RollbackAsync(
        [AsParameters] FlagRoute route, HttpContext httpContext, [AsParameters] WriteServices services, CancellationToken cancellationToken)
    {
        var id = route.Id;
        var condition = EntityTags.WriteCondition(httpContext.Request, allowIfNoneMatch: false);
        var (body, target) = await RollbackRequest.ReadAsync(httpContext.Request, services.Limits.Value, cancellationToken);
        var change = await InFlagTermsAsync(id, () => services.Writes.RollbackAsync(
            new RollbackConfigRequest
            {
                Id = route.StoredId,
                TargetVersion = target,
                ChangeDescription = body.ChangeDescription,
                Actor = httpContext.Actor(),
                Condition = condition,
            },
            httpContext.CanReadSecrets(),
            cancellationToken));

        httpContext.Response.Headers.ETag = EntityTags.ForVersion(change.Version);
        return TypedResults.Json(FlagResponse.From(id.Environment, change.Entry!, change.Revision), FlagJson.Context.FlagResponse);
    }

    static async Task<Results<JsonHttpResult<FlagSetResponse>, StatusCodeHttpResult>> ListAsync(
        [AsParameters] ScopeRoute route, HttpContext httpContext, SnapshotReads reads, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var snapshot = await reads.ListAsync(httpContext, route.ServiceName, FlagStorage.Environment(route.Environment), cancellationToken);

        // A flagd file is one document, which a page of it would not be: past the bound the answer is refused whole.
        var maxBytes = limits.Value.MaxAnswerBytes;
        if (snapshot.Entries.Count > 1 && AnswerBudget.Fit(snapshot.Entries, static e => e.Value, maxBytes) < snapshot.Entries.Count)
        {
            throw new KeelException(
                KeelError.AnswerTooLarge,
                $"The flags of {route.ServiceName}/{route.Environment} are more than {maxBytes} bytes (Keel:Limits:MaxAnswerBytes); read them one by one, or raise the limit.");
        }

        httpContext.Response.Headers.ETag = EntityTags.ForListing(snapshot.LastChangeRevision);
        if (EntityTags.IfNoneMatchHits(httpContext.Request, httpContext.Response.Headers.ETag!))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Json(
            new FlagSetResponse(snapshot.Entries.ToDictionary(e => e.Id.Key, e => FlagResponse.Parse(e.Value), StringComparer.Ordinal)),
            FlagJson.Context.FlagSetResponse);
    }

    static async Task<JsonHttpResult<ImportResponse>> ImportAsync(
        [AsParameters] ScopeRoute route,
        HttpContext httpContext,
        IConfigStore store,
        ConfigWritePipeline writes,
        IOptions<LimitsOptions> options,
        IOptions<FlagOptions> flags,
        CancellationToken cancellationToken)
    {
        var query = httpContext.Request.Query;
        var limits = options.Value;
        var dryRun = QueryParameters.Boolean(query, "dry_run");
        var prune = QueryParameters.Boolean(query, "prune");
        var description = QueryParameters.Single(query, "change_description");
        ConfigWriteInput.CheckDescription(description, limits);
        JsonBody.AllowBodyOf(httpContext, limits.MaxImportBytes);

        var text = await JsonBody.ReadTextAsync(
            httpContext.Request, limits.MaxImportBytes, $"The file is larger than {limits.MaxImportBytes} bytes (Keel:Limits:MaxImportBytes).", cancellationToken);
        IReadOnlyList<FlagDefinition> file;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 });
            file = FlagDefinitions.ParseFile(document.RootElement, limits.MaxValueBytes, limits.MaxImportBytes, flags.Value.Limits, FlagStorage.WritableKeyRule);
        }
        catch (JsonException e)
        {
            throw new KeelException(KeelError.InvalidFile, "The file is not valid JSON.", [new FieldError("$", $"The JSON does not parse (line {e.LineNumber + 1}).")]);
        }
        catch (FlagDefinitionException e)
        {
            throw Invalid(e);
        }

        if (file.Count > limits.MaxImportKeys)
        {
            throw new KeelException(KeelError.InvalidFile, $"The file holds {file.Count} flags; an import takes at most {limits.MaxImportKeys} (Keel:Limits:MaxImportKeys).");
        }

        var environment = FlagStorage.Environment(route.Environment);
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = await store.ListAsync(route.ServiceName, environment, cancellationToken);
            var stored = snapshot.Entries.ToDictionary(e => e.Id.Key, e => e.Value, StringComparer.Ordinal);
            List<string> added = [], changed = [], removed = [];
            List<ChangeSetItem> items = [];
            foreach (var flag in file)
            {
                if (!stored.TryGetValue(flag.Key, out var current))
                {
                    added.Add(flag.Key);
                }
                else if (current != flag.Json)
                {
                    changed.Add(flag.Key);
                }
                else
                {
                    continue;
                }

                items.Add(ChangeSetItem.Set(flag.Key, flag.Json, ConfigValueType.Json));
            }

            if (prune)
            {
                var inFile = file.Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
                foreach (var key in stored.Keys.Where(k => !inFile.Contains(k)).Order(StringComparer.Ordinal))
                {
                    removed.Add(key);
                    items.Add(ChangeSetItem.Delete(key));
                }
            }

            var unchanged = file.Count - added.Count - changed.Count;
            if (dryRun)
            {
                return TypedResults.Json(new ImportResponse(true, null, added, changed, removed, unchanged), KeelJson.Context.ImportResponse);
            }

            try
            {
                var result = await writes.ImportAsync(
                    new ChangeSetRequest
                    {
                        ServiceName = route.ServiceName,
                        Environment = environment,
                        Items = items,
                        ChangeDescription = description,
                        Actor = httpContext.Actor(),
                        UnchangedSince = snapshot.LastChangeRevision,
                    },
                    cancellationToken);
                return TypedResults.Json(new ImportResponse(false, result.Revision, added, changed, removed, unchanged), KeelJson.Context.ImportResponse);
            }
            catch (KeelException e) when (e.Error == KeelError.ConcurrentChange && attempt < ConfigWritePipeline.ImportAttempts)
            {
                // Other writes landed between planning and committing; plan again over what they left.
            }
            catch (KeelException e) when (e.Error == KeelError.ConcurrentChange)
            {
                throw new KeelException(
                    KeelError.ConcurrentChange,
                    $"The flags of {route.ServiceName}/{route.Environment} kept changing while the import was planned ({ConfigWritePipeline.ImportAttempts} attempts); nothing was written. Try again.");
            }
        }
    }

    /// <summary>Reads and checks a flag definition; the stored form is <see cref="FlagDefinition.Json"/>.</summary>
    static async Task<FlagDefinition> ReadDefinitionAsync(
        HttpRequest request, string key, LimitsOptions limits, LogicLimits evaluation, CancellationToken cancellationToken)
    {
        var text = await JsonBody.ReadTextAsync(
            request, limits.MaxValueBytes, $"A flag definition may be at most {limits.MaxValueBytes} bytes (Keel:Limits:MaxValueBytes).", cancellationToken);

        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = FlagDefinitions.MaxDepth });
            return FlagDefinitions.Parse(key, document.RootElement, maxDefinitionBytes: limits.MaxValueBytes, limits: evaluation, keyRule: FlagStorage.KeyRule);
        }
        catch (JsonException)
        {
            throw new KeelException(KeelError.MalformedRequest, "The body is not valid JSON; send the flag's definition in flagd's format.");
        }
        catch (FlagDefinitionException e)
        {
            throw Invalid(e);
        }
    }

    /// <summary>A definition's problems as a value the server refuses (422), each one a field error.</summary>
    static KeelException Invalid(FlagDefinitionException e) =>
        new(KeelError.InvalidValue, e.Message, [.. e.FieldErrors.Select(f => new FieldError(f.Path, f.Message))]);

    /// <summary>Runs a store write, naming a missing key as the flag it is rather than its stored id.</summary>
    static async Task<T> InFlagTermsAsync<T>(ConfigId id, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (KeelException e) when (e.Error == KeelError.ConfigNotFound)
        {
            throw NotFound(id);
        }
        catch (KeelException e) when (e.Error == KeelError.VersionNotFound)
        {
            throw new KeelException(KeelError.VersionNotFound, $"Flag '{id.Key}' of {id.ServiceName}/{id.Environment} has no such version.");
        }
    }

    static KeelException NotFound(ConfigId id) =>
        new(KeelError.FlagNotFound, $"Flag '{id.Key}' does not exist in {id.ServiceName}/{id.Environment}.");
}
