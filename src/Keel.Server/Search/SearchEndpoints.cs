// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Keel.Server.Search;

/// <summary>Key search across services and environments, under <c>/api/v1/search</c>.</summary>
static class SearchEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;
    const string CursorMarker = "s1:";

    public static IEndpointRouteBuilder MapSearchEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/search", SearchAsync)
            .WithTags("Configuration")
            .WithName("SearchConfig")
            .WithCompression()
            .RequireAuthorization(KeelPolicies.Read)
            .WithSummary("Finds live keys by text or prefix (case-insensitive) across the services and environments the token covers; never searches values.");
        return endpoints;
    }

    static async Task<JsonHttpResult<SearchResponse>> SearchAsync(
        HttpContext httpContext, IConfigStore store, IOptions<SearchOptions> options, CancellationToken cancellationToken)
    {
        var query = httpContext.Request.Query;
        var valueType = QueryParameters.Single(query, "value_type");
        ConfigValueType? type = null;
        if (valueType is not null)
        {
            type = ConfigValueTypes.TryParse(valueType, out var parsed)
                ? parsed
                : throw QueryParameters.Invalid("value_type", $"value_type must be one of {string.Join(", ", ConfigValueTypes.WireNames)}.");
        }

        var search = new SearchQuery
        {
            Text = Text(query, "q"),
            Prefix = Text(query, "prefix"),
            ServiceName = QueryParameters.ServiceName(query),
            Environment = QueryParameters.Environment(query),
            ValueType = type,
            IsEncrypted = QueryParameters.Single(query, "is_encrypted") switch
            {
                null => null,
                "true" => true,
                "false" => false,
                _ => throw QueryParameters.Invalid("is_encrypted", "is_encrypted must be true or false."),
            },
            Scopes = httpContext.Token().Scopes,
            Limit = (int)QueryParameters.Integer(query, "limit", DefaultLimit, 1, MaxLimit),
            After = Cursor(query),
            MaxScannedKeys = options.Value.MaxScannedKeys,
            MaxIndexedCandidates = options.Value.MaxIndexedCandidates,
        };

        var page = await store.SearchAsync(search, cancellationToken);
        return TypedResults.Json(
            new SearchResponse(
                [.. page.Results.Select(r => new SearchResultItem(
                    r.Id.ServiceName, r.Id.Environment, r.Id.Key, r.ValueType.ToWireName(), r.Version, r.IsEncrypted, r.UpdatedAt.UtcDateTime))],
                page.Next is { } next ? EncodeCursor(next) : null,
                page.BudgetReached),
            KeelJson.Context.SearchResponse);
    }

    static string? Text(IQueryCollection query, string name)
    {
        var text = QueryParameters.Single(query, name);
        if (text is not null && text.Length > ConfigNames.MaxKeyLength)
        {
            throw QueryParameters.Invalid(name, $"{name} must be at most {ConfigNames.MaxKeyLength} characters.");
        }

        return string.IsNullOrEmpty(text) ? null : text;
    }

    // The last result's position: its four parts joined by '/', which no name or key holds.
    static string EncodeCursor(SearchPosition position) =>
        Cursors.Encode(CursorMarker, string.Join('/', position.SearchKey, position.ServiceName, position.Environment, position.Key));

    static SearchPosition? Cursor(IQueryCollection query)
    {
        if (Cursors.Read(query, CursorMarker) is not { } position)
        {
            return null;
        }

        // Every part must be a name or key the API takes, so that no forged part (a NUL, which PostgreSQL refuses in text)
        // reaches the store.
        return position.Split('/') is [var searchKey, var service, var environment, var key]
            && IsFoldedKey(searchKey)
            && ConfigNames.IsValidServiceName(service, out _)
            && ConfigNames.IsValidEnvironment(environment, out _)
            && ConfigNames.IsValidKey(key, out _)
                ? new SearchPosition(searchKey, service, environment, key)
                : throw Cursors.Invalid();
    }

    // A folded key is a valid key but for one: a key such as EXPORT folds to the reserved key.
    static bool IsFoldedKey(string text) => text == ConfigNames.ReservedKey || ConfigNames.IsValidKey(text, out _);
}
