// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keel.Core.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace Keel.Server.Security;

/// <summary>
/// Authenticates every request with the default scheme, as the framework's authentication middleware does, and keeps what a
/// request on an HTTP/1.x connection proved on the connection: the next request there that sends the same header skips the
/// hash, the lookup and the handler, and reuses the principal, for as long as the tokens are unchanged and the token is active.
/// </summary>
sealed class TokenAuthenticationMiddleware(RequestDelegate next, TokenRegistry registry)
{
    public Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        var connection = header.Count == 1 && (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
            ? context.Features.Get<IConnectionItemsFeature>()?.Items
            : null;
        if (connection is not null
            && connection.TryGetValue(typeof(ConnectionToken), out var held)
            && held is ConnectionToken prior
            && prior.StillProves(header[0]!, context.Connection.ClientCertificate, registry))
        {
            Authenticated(context, prior.Result);
            return next(context);
        }

        return AuthenticateAsync(context, connection);
    }

    async Task AuthenticateAsync(HttpContext context, IDictionary<object, object?>? connection)
    {
        // Taken before the check: a revocation that lands during it replaces the snapshot, and the proof kept here goes stale.
        var snapshot = registry.Snapshot;
        var result = await context.AuthenticateAsync();
        // As the framework's middleware: a failure sets nothing, and a policy's challenge asks the handler for its reason.
        if (result.Succeeded)
        {
            Authenticated(context, result);
            if (connection is not null && result.Principal.Identity is TokenIdentity identity)
            {
                connection[typeof(ConnectionToken)] = new ConnectionToken(
                    context.Request.Headers.Authorization[0]!, context.Connection.ClientCertificate, identity.Token, snapshot, result);
            }
        }

        await next(context);
    }

    static void Authenticated(HttpContext context, AuthenticateResult result)
    {
        context.User = result.Principal!;
        var features = new AuthenticatedFeatures(result);
        context.Features.Set<IAuthenticateResultFeature>(features);
        context.Features.Set<IHttpAuthenticationFeature>(features);
    }

    sealed class AuthenticatedFeatures(AuthenticateResult result) : IAuthenticateResultFeature, IHttpAuthenticationFeature
    {
        public AuthenticateResult? AuthenticateResult { get; set; } = result;

        public ClaimsPrincipal? User
        {
            get => AuthenticateResult?.Principal;
            set => AuthenticateResult = value is null ? null : AuthenticateResult.Success(new AuthenticationTicket(value, TokenAuthenticationHandler.SchemeName));
        }
    }

    sealed class ConnectionToken(string header, X509Certificate2? certificate, AccessToken token, object snapshot, AuthenticateResult result)
    {
        public AuthenticateResult Result { get; } = result;

        public bool StillProves(string presented, X509Certificate2? presentedCertificate, TokenRegistry registry) =>
            ReferenceEquals(snapshot, registry.Snapshot)
            && ReferenceEquals(certificate, presentedCertificate)
            && Same(header, presented)
            && token.IsActiveAt(registry.Now);

        // In constant time, as the secret's hash is compared; Kestrel hands a connection the same string for the same header bytes.
        static bool Same(string held, string presented) =>
            ReferenceEquals(held, presented)
            || (held.Length == presented.Length
                && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(held.AsSpan()), MemoryMarshal.AsBytes(presented.AsSpan())));
    }
}
