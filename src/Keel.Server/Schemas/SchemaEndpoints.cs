// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.Json;
using Keel.Core;
using Keel.Core.Schemas;
using Keel.Core.Storage;
using Keel.Server.Config;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Keel.Server.Schemas;

/// <summary>The schema API under <c>/api/v1/schemas</c>: JSON Schemas per service and key pattern, and checks of candidates.</summary>
static class SchemaEndpoints
{
    public static IEndpointRouteBuilder MapSchemaEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var schemas = endpoints.MapGroup("/api/v1/schemas").WithTags("Schemas").CheckRoutes();

        schemas.MapGet("/{service_name}", ListAsync)
            .WithName("ListSchemas")
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Lists a service's schemas by key pattern.");

        schemas.MapGet("/{service_name}/{key_pattern}", GetAsync)
            .WithName("GetSchema")
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Reads the JSON Schema of a key pattern.");

        schemas.MapPut("/{service_name}/{key_pattern}", PutAsync)
            .WithName("PutSchema")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Write)
            .WithSummary("Creates or replaces the JSON Schema (the body) that values of matching keys must validate against, in every environment.");

        schemas.MapDelete("/{service_name}/{key_pattern}", DeleteAsync)
            .WithName("DeleteSchema")
            .RequireAuthorization(KeelPolicies.Write)
            .WithRouteUse(RouteUse.Remove)
            .WithSummary("Deletes the JSON Schema of a key pattern.");

        schemas.MapPost("/{service_name}/{key_pattern}/check", CheckAsync)
            .WithName("CheckSchema")
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Lists the live values, in every environment the token covers, that the candidate schema (the body) would reject.");

        return endpoints;
    }

    static async Task<JsonHttpResult<SchemaListResponse>> ListAsync(
        [AsParameters] ServiceRoute route, ISchemaStore store, CancellationToken cancellationToken)
    {
        var schemas = await store.ListSchemasAsync(route.ServiceName, cancellationToken);
        return TypedResults.Json(
            new SchemaListResponse(route.ServiceName, [.. schemas.Select(s => new SchemaListItem(s.KeyPattern, Parse(s.Schema), s.Version, s.UpdatedAt.UtcDateTime))]),
            KeelJson.Context.SchemaListResponse);
    }

    static async Task<IResult> GetAsync([AsParameters] SchemaRoute route, HttpContext httpContext, ISchemaStore store, CancellationToken cancellationToken)
    {
        var schemas = await store.ListSchemasAsync(route.ServiceName, cancellationToken);
        var schema = schemas.FirstOrDefault(s => s.KeyPattern == route.KeyPattern) ?? throw NotFound(route);
        SetHeaders(httpContext, schema);
        return TypedResults.Text(schema.Schema, "application/schema+json; charset=utf-8");
    }

    static async Task<IResult> PutAsync(
        [AsParameters] SchemaRoute route,
        HttpContext httpContext,
        ISchemaStore store,
        SchemaValidator validator,
        IOptions<LimitsOptions> limits,
        ILogger<ConfigChangeLog> logger,
        CancellationToken cancellationToken)
    {
        var (document, _) = await ReadSchemaAsync(httpContext, validator, limits.Value, cancellationToken);
        var schema = await store.PutSchemaAsync(route.ServiceName, route.KeyPattern, document, httpContext.Actor(), cancellationToken);
        Log.SchemaChanged(logger, route.ServiceName, route.KeyPattern, "put", schema.Version);
        SetHeaders(httpContext, schema);
        return TypedResults.Json(
            new SchemaResponse(schema.ServiceName, schema.KeyPattern, Parse(schema.Schema), schema.Version, schema.UpdatedAt.UtcDateTime, schema.UpdatedBy),
            KeelJson.Context.SchemaResponse,
            statusCode: schema.Version == 1 ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    static async Task<NoContent> DeleteAsync(
        [AsParameters] SchemaRoute route, HttpContext httpContext, ISchemaStore store, ILogger<ConfigChangeLog> logger, CancellationToken cancellationToken)
    {
        await store.DeleteSchemaAsync(route.ServiceName, route.KeyPattern, httpContext.Actor(), cancellationToken);
        Log.SchemaChanged(logger, route.ServiceName, route.KeyPattern, "delete", 0);
        return TypedResults.NoContent();
    }

    static async Task<JsonHttpResult<SchemaCheckResponse>> CheckAsync(
        [AsParameters] SchemaRoute route,
        HttpContext httpContext,
        ISchemaStore schemas,
        SnapshotReads reads,
        SchemaValidator validator,
        IOptions<LimitsOptions> limits,
        CancellationToken cancellationToken)
    {
        var (_, candidate) = await ReadSchemaAsync(httpContext, validator, limits.Value, cancellationToken);
        var patterns = (await schemas.ListSchemasAsync(route.ServiceName, cancellationToken)).Select(s => s.KeyPattern).Append(route.KeyPattern).ToList();
        var prefix = route.KeyPattern.EndsWith('*') ? route.KeyPattern[..^1] : route.KeyPattern;
        var entries = await reads.ListServiceAsync(httpContext, route.ServiceName, prefix, cancellationToken);
        var token = httpContext.Token();
        var reveal = httpContext.CanReadSecrets();
        List<SchemaViolationItem> violations = [];
        int checkedCount = 0, skipped = 0;
        foreach (var entry in entries)
        {
            // The candidate would apply only where it is the most specific pattern, as it would once put.
            if (!token.Covers(entry.Id.ServiceName, entry.Id.Environment)
                || SchemaPatterns.MostSpecific(patterns, entry.Id.Key) != route.KeyPattern)
            {
                continue;
            }

            // Checking a secret against a schema the caller wrote would tell the caller about its value.
            if (entry.IsEncrypted && (!reveal || entry.DecryptionFailed))
            {
                skipped++;
                continue;
            }

            checkedCount++;
            List<FieldError> errors = [];
            SchemaValidator.AddErrors(candidate, entry.Id.Key, entry.ValueType, entry.Value, "$", errors, cancellationToken);
            if (errors.Count > 0)
            {
                violations.Add(new SchemaViolationItem(entry.Id.Environment, entry.Id.Key, errors));
            }
        }

        return TypedResults.Json(
            new SchemaCheckResponse(route.ServiceName, route.KeyPattern, checkedCount, skipped, violations), KeelJson.Context.SchemaCheckResponse);
    }

    static async Task<(string Text, CompiledSchema Compiled)> ReadSchemaAsync(
        HttpContext httpContext, SchemaValidator validator, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var text = await JsonBody.ReadTextAsync(
            httpContext.Request, limits.MaxValueBytes, $"A schema may be at most {limits.MaxValueBytes} bytes (Keel:Limits:MaxValueBytes).", cancellationToken);

        return (text, await validator.CompileAsync(text, cancellationToken));
    }

    static void SetHeaders(HttpContext httpContext, ConfigSchema schema)
    {
        httpContext.Response.Headers.ETag = string.Create(CultureInfo.InvariantCulture, $"\"{schema.Version}\"");
        httpContext.Response.Headers["X-Keel-Schema-Version"] = schema.Version.ToString(CultureInfo.InvariantCulture);
    }

    static JsonElement Parse(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return document.RootElement.Clone();
    }

    static KeelException NotFound(SchemaRoute route) =>
        new(KeelError.SchemaNotFound, $"Service '{route.ServiceName}' has no schema for key pattern '{route.KeyPattern}'.");
}
