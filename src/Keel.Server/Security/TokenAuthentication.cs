// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using Keel.Core;
using Keel.Core.Security;
using Keel.Server.Http;
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
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The token is unknown, expired or revoked."));
        }

        if (token.ClientCertificateSha256 is { } bound && !Presents(Context.Connection.ClientCertificate, bound))
        {
            // Its own answer: whoever sends the token already holds it, so this tells a thief nothing, and tells its owner what is missing.
            return Task.FromResult(AuthenticateResult.Fail("The token is bound to a client certificate, and this connection did not present it."));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new TokenIdentity(token)), SchemeName)));
    }

    static bool Presents(X509Certificate2? certificate, string sha256) =>
        certificate is not null
        && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(TlsCertificates.Sha256(certificate)), System.Text.Encoding.ASCII.GetBytes(sha256));

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
