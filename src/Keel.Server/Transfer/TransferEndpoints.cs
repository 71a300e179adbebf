// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Core.Transfer;
using Keel.Server.Config;
using Keel.Server.Http;
using Keel.Server.Schemas;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Keel.Server.Transfer;

/// <summary>Writes of many keys at once: batch-set, and import and export of whole files.</summary>
static class TransferEndpoints
{
    public static IEndpointRouteBuilder MapTransferEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var config = endpoints.MapGroup("/api/v1/config").WithTags("Configuration").CheckRoutes();

        config.MapPost("/batch-set", BatchSetAsync)
            .WithName("SetConfigBatch")
            .RequireAuthorization(KeelPolicies.Write)
            .WithSummary("Writes up to 1,000 keys of one service and environment atomically, as one revision.")
            .Accepts<BatchSetRequest>("application/json");

        config.MapPost("/{service_name}/{environment}/import", ImportAsync)
            .WithName("ImportConfig")
            .RequireAuthorization(KeelPolicies.Write)
            .WithSummary("Imports a JSON, YAML, .env or appsettings.json file as one revision; dry_run reports the diff, prune deletes keys the file lacks.");

        config.MapGet("/{service_name}/{environment}/export", ExportAsync)
            .WithName("ExportConfig")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Exports every live key as a JSON, YAML or .env file that imports back unchanged.");

        return endpoints;
    }

    static async Task<JsonHttpResult<BatchSetResponse>> BatchSetAsync(
        HttpContext httpContext, [AsParameters] WriteServices services, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(httpContext.Request, KeelJson.Context.BatchSetRequest, cancellationToken);
        var request = ValidateBatchSet(body, httpContext.Actor(), services.Limits.Value);
        httpContext.EnsureCovers(request.ServiceName, request.Environment);

        ChangeSetResult result;
        try
        {
            result = await services.Writes.ApplyBatchAsync(request, Prefix, cancellationToken);
        }
        catch (KeelException e) when (e.Error == KeelError.VersionConflict)
        {
            // The store names keys; the answer names the request's fields.
            var index = request.Items.Select((item, i) => (item.Key, i)).ToDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);
            throw new KeelException(
                e.Error, e.Message, [.. e.FieldErrors.Select(f => new FieldError(Prefix(index[f.Path]) + "expected_version", f.Message))]);
        }

        return TypedResults.Json(
            new BatchSetResponse(
                request.ServiceName,
                request.Environment,
                result.Revision!.Value,
                [.. result.Changes.Select(c => new BatchSetItemResponse(
                    c.Id.Key, c.ChangeType.ToWireName(), c.Version, c.PreviousVersion, c.Entry!.ValueType.ToWireName(), c.Entry.IsEncrypted))]),
            KeelJson.Context.BatchSetResponse);
    }

    static ChangeSetRequest ValidateBatchSet(BatchSetRequest body, Core.Audit.Actor actor, LimitsOptions limits)
    {
        List<FieldError> missing = [];
        ConfigWriteInput.Require(missing, body.ServiceName, ConfigNames.ServiceNameField);
        ConfigWriteInput.Require(missing, body.Environment, ConfigNames.EnvironmentField);
        ConfigWriteInput.Require(missing, body.Configs, "configs");

        for (var i = 0; i < (body.Configs?.Count ?? 0); i++)
        {
            var item = body.Configs![i];
            if (item is null)
            {
                missing.Add(new FieldError($"configs[{i}]", "Each item must be an object."));
                continue;
            }

            if (item.ConfigKey is null)
            {
                missing.Add(new FieldError(Prefix(i) + ConfigNames.KeyField, $"{ConfigNames.KeyField} is required."));
            }

            if (item.ConfigValue.ValueKind is System.Text.Json.JsonValueKind.Undefined or System.Text.Json.JsonValueKind.Null)
            {
                missing.Add(new FieldError(Prefix(i) + ConfigValues.ValueField, $"{ConfigValues.ValueField} is required and must not be null."));
            }
        }

        ConfigWriteInput.ThrowIfMissing(missing);

        var configs = body.Configs!;
        if (configs.Count is 0 or > LimitsOptions.MaxBatchKeys)
        {
            throw QueryParameters.Invalid("configs", $"configs must hold 1 to {LimitsOptions.MaxBatchKeys} keys; this one holds {configs.Count}.");
        }

        List<FieldError> names = [];
        ConfigNames.AddErrors(names, body.ServiceName, body.Environment);
        for (var i = 0; i < configs.Count; i++)
        {
            if (!ConfigNames.IsWritableKey(configs[i]!.ConfigKey, out var error))
            {
                names.Add(new FieldError(Prefix(i) + ConfigNames.KeyField, error));
            }
        }

        if (names.Count > 0)
        {
            throw ConfigNames.InvalidName(names);
        }

        List<FieldError> errors = [];
        ConfigWriteInput.CheckDescription(body.ChangeDescription, limits, errors);
        var items = new List<ChangeSetItem>(configs.Count);
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < configs.Count; i++)
        {
            var item = configs[i]!;
            if (!first.TryAdd(item.ConfigKey!, i))
            {
                errors.Add(new FieldError(Prefix(i) + ConfigNames.KeyField, $"Key '{item.ConfigKey}' is also at configs[{first[item.ConfigKey!]}]; write each key once."));
            }

            if (item.ExpectedVersion is < 0)
            {
                errors.Add(new FieldError(Prefix(i) + "expected_version", "expected_version must be 0 (the key must not exist) or more."));
            }

            var value = ConfigWriteInput.ReadValue(item.ConfigValue, item.ValueType, limits, errors, Prefix(i));
            if (value is { } v)
            {
                items.Add(ChangeSetItem.Set(item.ConfigKey!, v.Value, v.Type, item.Encrypt, item.ExpectedVersion switch
                {
                    null => VersionCondition.None,
                    0 => VersionCondition.NotExists,
                    var version => VersionCondition.IsVersion(version.Value),
                }));
            }
        }

        ConfigWriteInput.ThrowIfAny(errors);
        return new ChangeSetRequest
        {
            ServiceName = body.ServiceName!,
            Environment = body.Environment!,
            ChangeDescription = body.ChangeDescription,
            Actor = actor,
            Items = items,
        };
    }

    static async Task<JsonHttpResult<ImportResponse>> ImportAsync(
        [AsParameters] ScopeRoute route,
        HttpContext httpContext,
        IConfigStore store,
        [AsParameters] WriteServices services,
        CancellationToken cancellationToken)
    {
        var query = httpContext.Request.Query;
        var limits = services.Limits.Value;
        var format = ImportFormat(httpContext.Request);
        var dryRun = QueryParameters.Boolean(query, "dry_run");
        var prune = QueryParameters.Boolean(query, "prune");
        var description = QueryParameters.Single(query, "change_description");
        ConfigWriteInput.CheckDescription(description, limits);

        JsonBody.AllowBodyOf(httpContext, limits.MaxImportBytes);

        var file = await ReadFileAsync(httpContext.Request, limits, cancellationToken);
        var canReadSecrets = httpContext.CanReadSecrets();
        var fileLimits = new ConfigFileLimits(limits.MaxImportKeys, limits.MaxValueBytes);
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = await store.ListAsync(route.ServiceName, route.Environment, cancellationToken);
            var types = snapshot.Entries.ToDictionary(e => e.Id.Key, e => e.ValueType, StringComparer.Ordinal);
            var entries = ConfigFileReader.Read(format, file, fileLimits, key => types.TryGetValue(key, out var type) ? type : null);
            await services.Writes.ValidateImportAsync(
                route.ServiceName, route.Environment, entries.Select(e => new SchemaCandidate(e.Key, e.Value, e.ValueType, e.Location)), cancellationToken);
            var plan = ImportPlan.Create(entries, snapshot.Entries, prune, canReadSecrets);
            if (dryRun)
            {
                return TypedResults.Json(ImportResponse.From(plan, dryRun: true, revision: null), KeelJson.Context.ImportResponse);
            }

            try
            {
                var result = await services.Writes.ImportAsync(
                    new ChangeSetRequest
                    {
                        ServiceName = route.ServiceName,
                        Environment = route.Environment,
                        Items = plan.Items,
                        ChangeDescription = description,
                        Actor = httpContext.Actor(),
                        UnchangedSince = snapshot.LastChangeRevision,
                    },
                    cancellationToken);
                return TypedResults.Json(ImportResponse.From(plan, dryRun: false, result.Revision), KeelJson.Context.ImportResponse);
            }
            catch (KeelException e) when (e.Error == KeelError.ConcurrentChange && attempt < ConfigWritePipeline.ImportAttempts)
            {
                // Other writes landed between planning and committing; plan again over what they left.
            }
        }
    }

    static async Task<EmptyHttpResult> ExportAsync(
        [AsParameters] ScopeRoute route, HttpContext httpContext, SnapshotReads reads, CancellationToken cancellationToken)
    {
        var name = QueryParameters.Single(httpContext.Request.Query, "format") ?? "json";
        if (!ConfigFileFormats.ExportNames.Contains(name) || !ConfigFileFormats.TryParse(name, out var format))
        {
            throw QueryParameters.Invalid("format", $"format must be one of {string.Join(", ", ConfigFileFormats.ExportNames)}.");
        }

        var snapshot = await reads.ListAsync(httpContext, route.ServiceName, route.Environment, cancellationToken);
        var reveal = httpContext.CanReadSecrets();
        var entries = snapshot.Entries.Where(e => reveal || !e.IsEncrypted).ToList();
        if (entries.FirstOrDefault(e => e.DecryptionFailed) is { } broken)
        {
            throw new KeelException(
                KeelError.DecryptionFailed,
                $"The stored value of key '{broken.Id.Key}' version {broken.Version} fails authenticated decryption; roll it back to a good version or write it again, then export.");
        }

        var headers = httpContext.Response.Headers;
        headers["X-Keel-Omitted-Secrets"] = (snapshot.Entries.Count - entries.Count).ToString(CultureInfo.InvariantCulture);
        headers["X-Keel-Revision"] = snapshot.Revision.ToString(CultureInfo.InvariantCulture);
        headers.Vary = "Authorization";
        headers.ContentDisposition = new ContentDispositionHeaderValue("attachment")
        {
            FileName = $"{route.ServiceName}.{route.Environment}.{format.Extension()}",
        }.ToString();
        httpContext.Response.ContentType = format.MediaType() + "; charset=utf-8";

        // Written as it is made, in pieces: an export is never held whole, beside the values it is made of.
        await ConfigFileWriter.WriteAsync(format, entries, httpContext.Response.Body, cancellationToken);
        return TypedResults.Empty;
    }

    /// <summary>The format from <c>?format=</c>, else from the Content-Type.</summary>
    static ConfigFileFormat ImportFormat(HttpRequest request)
    {
        if (QueryParameters.Single(request.Query, "format") is { } name)
        {
            return ConfigFileFormats.TryParse(name, out var named)
                ? named
                : throw QueryParameters.Invalid("format", $"format must be one of {string.Join(", ", ConfigFileFormats.ImportNames)}.");
        }

        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
        {
            var type = mediaType.MediaType.Value?.ToLowerInvariant();
            switch (type)
            {
                case "application/json":
                    return ConfigFileFormat.Json;
                case "application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml":
                    return ConfigFileFormat.Yaml;
                case "text/plain":
                    return ConfigFileFormat.Env;
            }
        }

        throw new KeelException(
            KeelError.UnsupportedMediaType,
            $"Say the file's format with ?format= ({string.Join(", ", ConfigFileFormats.ImportNames)}) or a Content-Type of application/json, application/yaml or text/plain (.env).");
    }

    static Task<ReadOnlyMemory<byte>> ReadFileAsync(HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken) =>
        JsonBody.ReadBytesAsync(
            request,
            limits.MaxImportBytes,
            $"The file is larger than {limits.MaxImportBytes} bytes (Keel:Limits:MaxImportBytes); split it.",
            cancellationToken);

    static string Prefix(int index) => string.Create(CultureInfo.InvariantCulture, $"configs[{index}].");
}
