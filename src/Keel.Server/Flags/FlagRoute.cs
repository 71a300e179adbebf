// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Server.Http;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Flags;

/// <summary>The route values of <c>/api/v1/flags/{service_name}/{environment}/{flag_key}</c>.</summary>
readonly record struct FlagRoute(
    [property: FromRoute(Name = "service_name")] string ServiceName,
    [property: FromRoute(Name = "environment")] string Environment,
    [property: FromRoute(Name = "flag_key")] string FlagKey)
{
    public const string KeyField = "flag_key";

    /// <summary>The flag the route names (as service, environment and key), after checking every part of it.</summary>
    /// <exception cref="KeelException">A part is invalid (400).</exception>
    /// <param name="httpContext">The request.</param>
    /// <param name="write">Whether the request writes the flag, which needs its key in NFC (<see cref="FlagStorage.IsWritableKey"/>).</param>
    public ConfigId ToId(HttpContext httpContext, bool write = false)
    {
        PathEscapes.EnsureUnambiguous(httpContext, KeyField);
        List<FieldError> errors = [];
        ConfigNames.AddErrors(errors, ServiceName, Environment);
        string? error;
        if (!(write ? FlagStorage.IsWritableKey(FlagKey, out error) : FlagStorage.IsValidKey(FlagKey, out error)))
        {
            errors.Add(new FieldError(KeyField, error.Replace(ConfigNames.KeyField, KeyField, StringComparison.Ordinal)));
        }

        return errors.Count > 0 ? throw ConfigNames.InvalidName(errors) : new ConfigId(ServiceName, Environment, FlagKey);
    }
}
