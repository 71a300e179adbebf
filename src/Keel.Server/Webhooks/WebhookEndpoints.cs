// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers.Text;
using System.Security.Cryptography;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Storage;
using Keel.Core.Webhooks;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keel.Server.Webhooks;

/// <summary>
/// Webhook subscriptions under <c>/api/v1/config/subscribe</c> and <c>/api/v1/config/subscriptions</c>. Creating, deleting and
/// redelivering need <c>write</c>, reading needs <c>read</c>; both within the token's scopes.
/// </summary>
static class WebhookEndpoints
{
    const string CursorMarker = "d1:";
    const int DefaultLimit = 100;
    const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/config").WithTags("Webhooks");
        group.MapPost("/subscribe", SubscribeAsync)
            .RequireAuthorization(KeelPolicies.Write)
            .WithName("Subscribe")
            .WithSummary("Creates a webhook for keys of one service and environment; the answer carries the signing secret, once.");
        group.MapGet("/subscriptions", ListAsync)
            .RequireAuthorization(KeelPolicies.Read)
            .WithName("ListSubscriptions")
            .WithSummary("Lists the webhook subscriptions the token's scopes cover, of one service_name when given.");
        group.MapGet("/subscriptions/{subscription_id}", GetAsync)
            .RequireAuthorization(KeelPolicies.Read)
            .WithName("GetSubscription")
            .WithSummary("Reads a webhook subscription.");
        group.MapDelete("/subscriptions/{subscription_id}", DeleteAsync)
            .RequireAuthorization(KeelPolicies.Write)
            .WithName("DeleteSubscription")
            .WithSummary("Deletes a webhook subscription and its deliveries.");
        group.MapGet("/subscriptions/{subscription_id}/deliveries", DeliveriesAsync)
            .RequireAuthorization(KeelPolicies.Read)
            .WithName("ListDeliveries")
            .WithSummary("Lists a subscription's deliveries newest first, with attempts and last error; status=pending|delivered|dead filters.");
        group.MapPost("/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver", RedeliverAsync)
            .RequireAuthorization(KeelPolicies.Write)
            .WithName("Redeliver")
            .WithSummary("Makes a dead or delivered delivery pending again, due now.");
        return endpoints;
    }

    static async Task<JsonHttpResult<SubscriptionResponse>> SubscribeAsync(
        HttpContext httpContext, IWebhookStore store, WebhookTargets targets, ILogger<WebhookDispatcher> logger, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(httpContext.Request, KeelJson.Context.SubscribeRequest, cancellationToken);
        List<FieldError> errors = [];
        ConfigNames.AddErrors(errors, body.ServiceName, body.Environment);

        var keys = body.ConfigKeys ?? [];
        if (keys.Count == 0)
        {
            errors.Add(new FieldError("config_keys", "config_keys must name at least one key or prefix; [\"*\"] is every key."));
        }
        else if (keys.Count > WebhookOptions.MaxKeyPatterns)
        {
            errors.Add(new FieldError("config_keys", $"config_keys may name at most {WebhookOptions.MaxKeyPatterns} keys or prefixes."));
        }

        foreach (var pattern in keys)
        {
            var key = pattern?.EndsWith('*') == true ? pattern[..^1] : pattern;
            if (pattern != "*" && !ConfigNames.IsValidKey(key, out var keyError))
            {
                errors.Add(new FieldError("config_keys", $"'{pattern}' is neither a key nor a prefix ending in '*': {keyError}"));
            }
        }

        if (body.Kind is not (null or "config" or "flag"))
        {
            errors.Add(new FieldError("kind", "kind is config (the default) or flag."));
        }

        if (errors.Count > 0)
        {
            throw new KeelException(KeelError.InvalidRequest, "The subscription is invalid; see errors.", errors);
        }

        httpContext.EnsureCovers(body.ServiceName!, body.Environment!);
        var url = await targets.ValidateAsync(body.WebhookUrl, cancellationToken);
        var secret = "whsec_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var actor = httpContext.Actor();
        var subscription = await store.CreateSubscriptionAsync(
            new NewWebhookSubscription
            {
                Id = "sub_" + Guid.CreateVersion7().ToString("N"),
                ServiceName = body.ServiceName!,
                Environment = FlagStorage.Environment(body.Environment!, flags: body.Kind == "flag"),
                Keys = [.. keys.Distinct(StringComparer.Ordinal)],
                Url = url.OriginalString,
                Secret = secret,
            },
            actor,
            cancellationToken);
        Log.WebhookSubscribed(logger, subscription.Id, subscription.ServiceName, subscription.Environment, actor.Name);
        httpContext.Response.Headers.Location = "/api/v1/config/subscriptions/" + subscription.Id;
        return TypedResults.Json(
            SubscriptionResponse.From(subscription) with { Secret = secret },
            KeelJson.Context.SubscriptionResponse,
            statusCode: StatusCodes.Status201Created);
    }

    static async Task<JsonHttpResult<SubscriptionListResponse>> ListAsync(
        HttpContext httpContext, IWebhookStore store, CancellationToken cancellationToken)
    {
        var serviceName = QueryParameters.ServiceName(httpContext.Request.Query);

        var token = httpContext.Token();
        var subscriptions = await store.ListSubscriptionsAsync(serviceName, cancellationToken);
        return TypedResults.Json(
            new SubscriptionListResponse([.. subscriptions.Where(s => token.Covers(s.ServiceName, FlagStorage.PublicEnvironment(s.Environment))).Select(SubscriptionResponse.From)]),
            KeelJson.Context.SubscriptionListResponse);
    }

    static async Task<JsonHttpResult<SubscriptionResponse>> GetAsync(
        string subscription_id, HttpContext httpContext, IWebhookStore store, CancellationToken cancellationToken) =>
        TypedResults.Json(
            SubscriptionResponse.From(await FindAsync(subscription_id, httpContext, store, cancellationToken)),
            KeelJson.Context.SubscriptionResponse);

    static async Task<NoContent> DeleteAsync(
        string subscription_id, HttpContext httpContext, IWebhookStore store, ILogger<WebhookDispatcher> logger, CancellationToken cancellationToken)
    {
        await FindAsync(subscription_id, httpContext, store, cancellationToken);
        var actor = httpContext.Actor();
        if (await store.DeleteSubscriptionAsync(subscription_id, actor, cancellationToken) is null)
        {
            throw NotFound(subscription_id);
        }

        Log.WebhookUnsubscribed(logger, subscription_id, actor.Name);
        return TypedResults.NoContent();
    }

    static async Task<JsonHttpResult<DeliveryListResponse>> DeliveriesAsync(
        string subscription_id, HttpContext httpContext, IWebhookStore store, CancellationToken cancellationToken)
    {
        var q = httpContext.Request.Query;
        var statusText = QueryParameters.Single(q, "status");
        DeliveryStatus? status = null;
        if (statusText is not null)
        {
            status = DeliveryStatuses.TryParse(statusText, out var parsed)
                ? parsed
                : throw QueryParameters.Invalid("status", "status must be pending, delivered or dead.");
        }

        var limit = (int)QueryParameters.Integer(q, "limit", DefaultLimit, 1, MaxLimit);
        var before = Cursors.ReadInteger(q, CursorMarker);
        await FindAsync(subscription_id, httpContext, store, cancellationToken);
        var page = await store.ListDeliveriesAsync(
            new DeliveryQuery { SubscriptionId = subscription_id, Status = status, Before = before, Limit = limit }, cancellationToken);
        return TypedResults.Json(
            new DeliveryListResponse(
                [.. page.Deliveries.Select(DeliveryResponse.From)],
                page.Next is { } next ? Cursors.Encode(CursorMarker, next) : null),
            KeelJson.Context.DeliveryListResponse);
    }

    static async Task<JsonHttpResult<DeliveryResponse>> RedeliverAsync(
        string subscription_id,
        string delivery_id,
        HttpContext httpContext,
        IWebhookStore store,
        WebhookDispatcher dispatcher,
        CancellationToken cancellationToken)
    {
        await FindAsync(subscription_id, httpContext, store, cancellationToken);
        var delivery = await store.RedeliverAsync(subscription_id, delivery_id, httpContext.Actor(), cancellationToken)
            ?? throw new KeelException(KeelError.DeliveryNotFound, $"Subscription '{subscription_id}' has no delivery '{delivery_id}'.");
        dispatcher.Wake();
        return TypedResults.Json(DeliveryResponse.From(delivery), KeelJson.Context.DeliveryResponse, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The subscription, if the token's scopes cover it; one it may not see is as absent as one that does not exist.</summary>
    static async Task<WebhookSubscription> FindAsync(
        string id, HttpContext httpContext, IWebhookStore store, CancellationToken cancellationToken)
    {
        var subscription = await store.GetSubscriptionAsync(id, cancellationToken);
        if (subscription is null || !httpContext.Token().Covers(subscription.ServiceName, FlagStorage.PublicEnvironment(subscription.Environment)))
        {
            throw NotFound(id);
        }

        return subscription;
    }

    static KeelException NotFound(string id) =>
        new(KeelError.SubscriptionNotFound, $"No webhook subscription '{id}' within this token's scopes.");
}
