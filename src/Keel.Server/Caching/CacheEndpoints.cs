// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keel.Server.Caching;

static class CacheEndpoints
{
    public static IEndpointRouteBuilder MapCacheEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/cache/stats", GetStats)
            .WithTags("Cache")
            .RequireAuthorization(Security.KeelPolicies.Admin)
            .WithName("GetCacheStats")
            .WithSummary("Counts of cache hits, misses and evictions since start, and the cache's current size.");
        return endpoints;
    }

    static JsonHttpResult<CacheStatistics> GetStats(ConfigCache cache) =>
        TypedResults.Json(cache.GetStatistics(), KeelJson.Context.CacheStatistics);
}
