// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Security;
using Keel.Server.Security;

namespace Keel.Server.Http;

/// <summary>What the current request's token may do.</summary>
static class Access
{
    public static AccessToken Token(this HttpContext httpContext) =>
        httpContext.User.Identity is TokenIdentity identity
            ? identity.Token
            : throw new InvalidOperationException("The endpoint runs without authorization; every API endpoint requires a token.");

    /// <summary>Who the current request acts as, for authorship and audit.</summary>
    public static Actor Actor(this HttpContext httpContext)
    {
        var token = httpContext.Token();
        return new Actor(token.Id, token.Name, httpContext.ClientAddress()?.ToString(), httpContext.TraceIdentifier);
    }

    /// <summary>
    /// The address the request came from, as the audit trail, the per-address rate limit and the per-address watcher cap all
    /// know it: the TCP peer, never a forwarded header; <see langword="null"/> when the transport has none.
    /// </summary>
    public static IPAddress? ClientAddress(this HttpContext httpContext) => httpContext.Connection.RemoteIpAddress;

    public static bool CanReadSecrets(this HttpContext httpContext) => httpContext.Token().Has(Permissions.SecretsRead);

    /// <summary>Requires a scope over every environment of the service (<c>service/*</c>), as changing its schemas needs.</summary>
    /// <exception cref="KeelException">No scope of the token covers every environment of the service.</exception>
    public static void EnsureCoversService(this HttpContext httpContext, string serviceName)
    {
        var token = httpContext.Token();
        if (token.Kind != TokenKind.Api || !token.Scopes.Any(s => s.CoversService(serviceName)))
        {
            throw new KeelException(
                KeelError.OutOfScope,
                $"Token '{token.Name}' may not change what applies to every environment of {serviceName}; that takes a scope such as {serviceName}/*. Its scopes are {string.Join(", ", token.Scopes)}.");
        }
    }

    /// <summary>Requires a scope over the service in at least one environment.</summary>
    /// <exception cref="KeelException">No scope of the token reaches the service.</exception>
    public static void EnsureReachesService(this HttpContext httpContext, string serviceName)
    {
        var token = httpContext.Token();
        if (token.Kind != TokenKind.Api || !token.Scopes.Any(s => s.ReachesService(serviceName)))
        {
            throw new KeelException(
                KeelError.OutOfScope,
                $"Token '{token.Name}' may not access {serviceName}; its scopes are {string.Join(", ", token.Scopes)}.");
        }
    }

    /// <exception cref="KeelException">The token's scopes do not cover the service and environment.</exception>
    public static void EnsureCovers(this HttpContext httpContext, string serviceName, string environment)
    {
        var token = httpContext.Token();
        if (!token.Covers(serviceName, environment))
        {
            throw new KeelException(
                KeelError.OutOfScope,
                $"Token '{token.Name}' may not access {serviceName}/{environment}; its scopes are {string.Join(", ", token.Scopes)}.");
        }
    }
}
