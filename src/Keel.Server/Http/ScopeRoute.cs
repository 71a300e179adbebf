// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Http;

/// <summary>The route values of <c>{service_name}/{environment}</c>, as the configuration, transfer and flag APIs name a scope.</summary>
readonly record struct ScopeRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "environment")] string Environment) : IRouteTarget
{
    public string EscapeField => ConfigNames.KeyField;

    public void Check(HttpContext httpContext, RouteUse use)
    {
        ConfigNames.Validate(ServiceName, Environment);
        httpContext.EnsureCovers(ServiceName, Environment);
    }
}
