// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Schemas;
using Keel.Server.Http;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Schemas;

/// <summary>The route values of <c>/api/v1/schemas/{service_name}/{key_pattern}</c>.</summary>
readonly record struct SchemaRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "key_pattern")] string KeyPattern)
{
    /// <param name="httpContext">The request.</param>
    /// <param name="write">Whether the request puts a schema, which needs the pattern in NFC (<see cref="SchemaPatterns.IsWritable"/>).</param>
    public void Validate(HttpContext httpContext, bool write = false)
    {
        PathEscapes.EnsureUnambiguous(httpContext, SchemaPatterns.Field);
        List<FieldError> errors = [];
        if (!ConfigNames.IsValidServiceName(ServiceName, out var serviceError))
        {
            errors.Add(new FieldError(ConfigNames.ServiceNameField, serviceError));
        }

        string? patternError;
        if (!(write ? SchemaPatterns.IsWritable(KeyPattern, out patternError) : SchemaPatterns.IsValid(KeyPattern, out patternError)))
        {
            errors.Add(new FieldError(SchemaPatterns.Field, patternError));
        }

        if (errors.Count > 0)
        {
            throw ConfigNames.InvalidName(errors);
        }
    }
}
