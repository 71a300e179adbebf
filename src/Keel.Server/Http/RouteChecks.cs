// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;

namespace Keel.Server.Http;

/// <summary>How a request uses what its route names, which decides how strictly the name is checked and what scope it takes.</summary>
enum RouteUse
{
    /// <summary>Reads it: any valid name.</summary>
    Read,

    /// <summary>Deletes it: any valid name, as for a read; only storing needs more.</summary>
    Remove,

    /// <summary>Stores under it: a valid name in Unicode Normalization Form C (<see cref="ConfigNames.IsWritableKey"/>).</summary>
    Write,
}

/// <summary>
/// Route values, bound with <c>[AsParameters]</c>, that name what a request reaches; <see cref="RouteChecks"/> checks them
/// before the handler runs, so that the handler reads them as checked.
/// </summary>
interface IRouteTarget
{
    /// <summary>The field a path that gives a name a second URL is reported under.</summary>
    string EscapeField { get; }

    /// <summary>Checks every part of the route, then that the token's scopes reach what it names.</summary>
    /// <exception cref="KeelException">A part is invalid (400) or out of the token's scopes (403).</exception>
    void Check(HttpContext httpContext, RouteUse use);
}

/// <summary>
/// The prologue of the API endpoints whose path names what they reach, as one endpoint filter: a path that gives a name a
/// second URL is refused (<see cref="PathEscapes"/>), then the handler's <see cref="IRouteTarget"/>, when it takes one, is
/// checked with the token's scope for it. A route group or endpoint opts in with <see cref="CheckRoutes"/>; an endpoint that
/// deletes or stores under the name says so with <see cref="WithRouteUse"/>.
/// </summary>
static class RouteChecks
{
    public static TBuilder CheckRoutes<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(CheckAsync);

    public static RouteHandlerBuilder WithRouteUse(this RouteHandlerBuilder builder, RouteUse use) =>
        builder.WithMetadata(new RouteUseMetadata(use));

    static ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var httpContext = context.HttpContext;
        IRouteTarget? target = null;
        var arguments = context.Arguments;
        for (var i = 0; i < arguments.Count && target is null; i++)
        {
            target = arguments[i] as IRouteTarget;
        }

        PathEscapes.EnsureUnambiguous(httpContext, target?.EscapeField ?? ConfigNames.KeyField);
        target?.Check(httpContext, httpContext.GetEndpoint()?.Metadata.GetMetadata<RouteUseMetadata>()?.Use ?? RouteUse.Read);
        return next(context);
    }

    sealed record RouteUseMetadata(RouteUse Use);
}
