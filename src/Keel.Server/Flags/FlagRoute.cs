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
    [property: FromRoute(Name = "flag_key")] string FlagKey) : IRouteTarget
{
    public const string KeyField = "flag_key";

    /// <summary>The flag the route names, as service, environment and key; <see cref="RouteChecks"/> checked it.</summary>
    public ConfigId Id => new(ServiceName, Environment, FlagKey);

    /// <summary>Where the store keeps the flag (<see cref="FlagStorage"/>).</summary>
    public ConfigId StoredId => FlagStorage.Id(ServiceName, Environment, FlagKey);

    public string EscapeField => KeyField;

    /// <summary>Checks every part of the route and the token's scope; a write needs the key in NFC (<see cref="FlagStorage.IsWritableKey"/>).</summary>
    public void Check(HttpContext httpContext, RouteUse use)
    {
        List<FieldError> errors = [];
        ConfigNames.AddErrors(errors, ServiceName, Environment);
        string? error;
        if (!(use == RouteUse.Write ? FlagStorage.IsWritableKey(FlagKey, out error) : FlagStorage.IsValidKey(FlagKey, out error)))
        {
            errors.Add(new FieldError(KeyField, error.Replace(ConfigNames.KeyField, KeyField, StringComparison.Ordinal)));
        }

        if (errors.Count > 0)
        {
            throw ConfigNames.InvalidName(errors);
        }

        httpContext.EnsureCovers(ServiceName, Environment);
    }
}
