// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Schemas;
using Keel.Server.Http;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Schemas;

/// <summary>
/// The route values of <c>/api/v1/schemas/{service_name}/{key_pattern}</c>. Reading a schema takes a scope that reaches the
/// service; changing one, which applies in every environment, takes a scope over all of them (<c>service/*</c>).
/// </summary>
readonly record struct SchemaRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "key_pattern")] string KeyPattern) : IRouteTarget
{
    public string EscapeField => SchemaPatterns.Field;

    /// <summary>Checks both parts and the token's scope; putting a schema needs the pattern in NFC (<see cref="SchemaPatterns.IsWritable"/>).</summary>
    public void Check(HttpContext httpContext, RouteUse use)
    {
        List<FieldError> errors = [];
        if (!ConfigNames.IsValidServiceName(ServiceName, out var serviceError))
        {
            errors.Add(new FieldError(ConfigNames.ServiceNameField, serviceError));
        }

        string? patternError;
        if (!(use == RouteUse.Write ? SchemaPatterns.IsWritable(KeyPattern, out patternError) : SchemaPatterns.IsValid(KeyPattern, out patternError)))
        {
            errors.Add(new FieldError(SchemaPatterns.Field, patternError));
        }

        if (errors.Count > 0)
        {
            throw ConfigNames.InvalidName(errors);
        }

        if (use == RouteUse.Read)
        {
            httpContext.EnsureReachesService(ServiceName);
        }
        else
        {
            httpContext.EnsureCoversService(ServiceName);
        }
    }
}

/// <summary>The route value of <c>/api/v1/schemas/{service_name}</c>: a service, whose schemas a scope that reaches it may read.</summary>
readonly record struct ServiceRoute([property: FromRoute(Name = "service_name")] string ServiceName) : IRouteTarget
{
    public string EscapeField => ConfigNames.KeyField;

    public void Check(HttpContext httpContext, RouteUse use)
    {
        if (!ConfigNames.IsValidServiceName(ServiceName, out var error))
        {
            throw ConfigNames.InvalidName([new FieldError(ConfigNames.ServiceNameField, error)]);
        }

        httpContext.EnsureReachesService(ServiceName);
    }
}
