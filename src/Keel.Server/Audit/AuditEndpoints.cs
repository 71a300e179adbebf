// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Storage;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keel.Server.Audit;

/// <summary>The audit trail under <c>/api/v1/audit</c>; admin only.</summary>
static class AuditEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    const string CursorMarker = "a1:";

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/audit", QueryAsync)
            .WithTags("Audit")
            .RequireAuthorization(KeelPolicies.Admin)
            .CheckRoutes()
            .WithName("QueryAudit")
            .WithCompression()
            .WithSummary("Lists audit records newest first, filtered by service_name, environment, actor, action, since and until, paged by cursor.");
        return endpoints;
    }

    static async Task<JsonHttpResult<AuditResponse>> QueryAsync(HttpContext httpContext, IAuditStore audit, CancellationToken cancellationToken)
    {
        var q = httpContext.Request.Query;
        var serviceName = QueryParameters.ServiceName(q);
        var environment = QueryParameters.Environment(q);

        var limit = (int)QueryParameters.Integer(q, "limit", DefaultLimit, 1, MaxLimit);
        var query = new AuditQuery
        {
            ServiceName = serviceName,
            Environment = environment,
            Actor = QueryParameters.Single(q, "actor"),
            Action = QueryParameters.Single(q, "action"),
            Since = QueryParameters.Timestamp(q, "since"),
            Until = QueryParameters.Timestamp(q, "until"),
            BeforeId = Cursors.ReadInteger(q, CursorMarker),

            // One more than asked tells whether another page follows.
            Limit = limit + 1,
        };

        var records = await audit.QueryAuditAsync(query, cancellationToken);
        var page = records.Take(limit).Select(AuditRecordResponse.From).ToList();
        var next = records.Count > limit ? Cursors.Encode(CursorMarker, page[^1].Id) : null;
        return TypedResults.Json(new AuditResponse(page, next), KeelJson.Context.AuditResponse);
    }
}
