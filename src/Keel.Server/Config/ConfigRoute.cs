// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Server.Http;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Config;

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
        PathEscapes.EnsureUnambiguous(httpContext);
        var id = new ConfigId(ServiceName, Environment, ConfigKey);
        ConfigNames.Validate(id);
        return id;
    }

    /// <summary>The key the route names for a write, which also needs the key in NFC (<see cref="ConfigNames.IsWritableKey"/>).</summary>
    /// <exception cref="KeelException">A part is invalid (400).</exception>
    public ConfigId ToWriteId(HttpContext httpContext)
    {
        PathEscapes.EnsureUnambiguous(httpContext);
        var id = new ConfigId(ServiceName, Environment, ConfigKey);
        ConfigNames.ValidateForWrite(id);
        return id;
    }
}
