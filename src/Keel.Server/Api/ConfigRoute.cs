// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Api;

/// <summary>The route values of <c>/api/v1/config/{service_name}/{environment}</c>.</summary>
readonly record struct ScopeRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "environment")] string Environment)
{
    public void Validate(HttpContext httpContext)
    {
        ConfigRoute.RejectEncodedSlash(httpContext);
        ConfigNames.Validate(ServiceName, Environment);
    }
}

/// <summary>The route values of <c>/api/v1/config/{service_name}/{environment}/{config_key}</c>.</summary>
readonly record struct ConfigRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "environment")] string Environment,
    [property: FromRoute(Name = "config_key")] string ConfigKey)
{
    /// <summary>The key the route names, after checking every part of it.</summary>
    /// <exception cref="KeelException">A part is invalid (400).</exception>
    public ConfigId ToId(HttpContext httpContext)
    {
        RejectEncodedSlash(httpContext);
        var id = new ConfigId(ServiceName, Environment, ConfigKey);
        ConfigNames.Validate(id);
        return id;
    }

    /// <summary>
    /// Kestrel leaves <c>%2F</c> undecoded in the path, so a key sent as <c>a%2Fb</c> would arrive as the literal text
    /// <c>a%2Fb</c>. No name may contain '/', so such a request is refused instead of being read as another key.
    /// </summary>
    public static void RejectEncodedSlash(HttpContext httpContext)
    {
        var raw = httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is null)
        {
            return;
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? raw.AsSpan() : raw.AsSpan(0, query);
        if (path.Contains("%2F", StringComparison.OrdinalIgnoreCase))
        {
            throw ConfigNames.InvalidName([new FieldError(ConfigNames.KeyField, "Names must not contain '/', encoded (%2F) or not.")]);
        }
    }
}
