// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Security;
using Keel.Server.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Keel.Server.Security;

/// <summary>The identity of a request that carried a valid token.</summary>
sealed class TokenIdentity(AccessToken token) : ClaimsIdentity([new Claim(ClaimTypes.Name, token.Name), new Claim(ClaimTypes.NameIdentifier, token.Id)], TokenAuthenticationHandler.SchemeName)
{
    public AccessToken Token { get; } = token;
}

/// <summary>Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the <see cref="TokenRegistry"/>.</summary>
sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    TokenRegistry registry,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";

    /// <summary>The challenge for a token that was rejected (RFC 6750 <c>invalid_token</c>).</summary>
    public const string InvalidTokenChallenge = "Bearer realm=\"keel\", error=\"invalid_token\"";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var value = header.Count == 1 ? header[0].AsSpan().Trim() : default;
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header is not a single Bearer token."));
        }

        var token = registry.Authenticate(value["Bearer ".Length..].Trim());
        return Task.FromResult(token is null
            ? AuthenticateResult.Fail("The token is unknown, expired or revoked.")
            : AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new TokenIdentity(token)), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var detail = result.Failure?.Message ?? "Send Authorization: Bearer <token>.";

        // RFC 6750: a request without credentials gets the bare challenge; a rejected token is named invalid_token.
        Response.Headers.WWWAuthenticate = result.Failure is null ? "Bearer realm=\"keel\"" : InvalidTokenChallenge;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = Problems.Create(KeelError.Unauthorized, detail),
        });
    }
}

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
