// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Frozen;
using Keel.Core;
using Keel.Core.Changes;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Security;
using Keel.Server.Http;

namespace Keel.Server.Watch;

/// <summary>
/// Which changes a watcher hears of: those of its service and environment when given, of its exact keys or key prefix when
/// given (either matches), and always only those its token's scopes cover. A watcher hears of configuration keys, or, with
/// <c>kind=flag</c>, of flags (whose keys are flag keys and whose environments are named as in the flag API).
/// </summary>
sealed class ChangeFilter
{
    public string? ServiceName { get; private init; }

    public string? Environment { get; private init; }

    /// <summary>The environment as the store knows it (a flag's has its own suffix), when the filter names one.</summary>
    public string? StoredEnvironment => Environment is { } environment ? FlagStorage.Environment(environment, Flags) : null;

    public FrozenSet<string>? Keys { get; private init; }

    public string? Prefix { get; private init; }

    public bool Flags { get; private init; }

    public required AccessToken Token { get; init; }

    public bool Matches(ChangeEvent change)
    {
        var id = change.Id;
        if (FlagStorage.IsFlagEnvironment(id.Environment) != Flags)
        {
            return false;
        }

        var environment = FlagStorage.PublicEnvironment(id.Environment);
        return (ServiceName is null || string.Equals(ServiceName, id.ServiceName, StringComparison.Ordinal))
            && (Environment is null || string.Equals(Environment, environment, StringComparison.Ordinal))
            && ((Keys is null && Prefix is null)
                || (Keys?.Contains(id.Key) ?? false)
                || (Prefix is not null && id.Key.StartsWith(Prefix, StringComparison.Ordinal)))
            && Token.Covers(id.ServiceName, environment);
    }

    /// <summary>Reads the filter from the query string, refusing a malformed one and one the token may not watch at all.</summary>
    public static ChangeFilter FromQuery(HttpContext httpContext)
    {
        var query = httpContext.Request.Query;
        List<FieldError> errors = [];
        var serviceName = QueryParameters.Single(query, ConfigNames.ServiceNameField);
        if (serviceName is not null && !ConfigNames.IsValidServiceName(serviceName, out var serviceError))
        {
            errors.Add(new FieldError(ConfigNames.ServiceNameField, serviceError));
        }

        var environment = QueryParameters.Single(query, ConfigNames.EnvironmentField);
        if (environment is not null && !ConfigNames.IsValidEnvironment(environment, out var environmentError))
        {
            errors.Add(new FieldError(ConfigNames.EnvironmentField, environmentError));
        }

        HashSet<string>? keys = null;
        foreach (var value in query["keys"])
        {
            foreach (var key in (value ?? string.Empty).Split(','))
            {
                if (!ConfigNames.IsValidKey(key, out var keyError))
                {
                    errors.Add(new FieldError("keys", $"'{key}' is not a key: {keyError}"));
                }
                else
                {
                    (keys ??= new(StringComparer.Ordinal)).Add(key);
                }
            }
        }

        if (keys?.Count > WatchOptions.MaxKeys)
        {
            errors.Add(new FieldError("keys", $"keys may name at most {WatchOptions.MaxKeys} keys; watch a prefix instead."));
        }

        var prefix = QueryParameters.Single(query, "prefix");
        if (prefix is not null && !ConfigNames.IsValidKey(prefix, out var prefixError))
        {
            errors.Add(new FieldError("prefix", $"prefix must be the start of a key: {prefixError}"));
        }

        var kind = QueryParameters.Single(query, "kind");
        if (kind is not (null or "config" or "flag"))
        {
            errors.Add(new FieldError("kind", "kind is config (the default) or flag."));
        }

        if (errors.Count > 0)
        {
            throw new KeelException(KeelError.InvalidRequest, "The watch filter is invalid; see errors.", errors);
        }

        if (serviceName is not null && environment is not null)
        {
            httpContext.EnsureCovers(serviceName, environment);
        }

        return new ChangeFilter
        {
            ServiceName = serviceName,
            Environment = environment,
            Keys = keys?.ToFrozenSet(StringComparer.Ordinal),
            Prefix = prefix,
            Flags = kind == "flag",
            Token = httpContext.Token(),
        };
    }
}
