// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Server.Http;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Config;

/// <summary>The route values of <c>/api/v1/config/{service_name}/{environment}/{config_key}</c>.</summary>
readonly record struct ConfigRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "environment")] string Environment,
    [property: FromRoute(Name = "config_key")] string ConfigKey) : IRouteTarget
{
    /// <summary>The key the route names; <see cref="RouteChecks"/> checked it.</summary>
    public ConfigId Id => new(ServiceName, Environment, ConfigKey);

    public string EscapeField => ConfigNames.KeyField;

    public void Check(HttpContext httpContext, RouteUse use)
    {
        if (use == RouteUse.Write)
        {
            ConfigNames.ValidateForWrite(Id);
        }
        else
        {
            ConfigNames.Validate(Id);
        }

        httpContext.EnsureCovers(ServiceName, Environment);
    }
}
