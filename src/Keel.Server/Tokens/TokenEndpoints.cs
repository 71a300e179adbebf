// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Configs;
using Keel.Core.Security;
using Keel.Server.Http;
using Keel.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Keel.Server.Tokens;

/// <summary>Token management under <c>/api/v1/tokens</c>; admin only.</summary>
static class TokenEndpoints
{
    public const int MaxNameLength = 100;
    public const int MaxScopes = 100;

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var tokens = endpoints.MapGroup("/api/v1/tokens").WithTags("Tokens").RequireAuthorization(KeelPolicies.Admin).CheckRoutes();

        tokens.MapPost("/", CreateAsync)
            .WithName("CreateToken")
            .WithSummary("Creates a token. The secret is in the answer's `token` and is never shown again.")
            .Accepts<CreateTokenRequest>("application/json");

        tokens.MapGet("/", ListAsync)
            .WithName("ListTokens")
            .WithSummary("Lists every token with its status; never a secret.");

        tokens.MapDelete("/{id}", RevokeAsync)
            .WithName("RevokeToken")
            .WithSummary("Revokes a token; it stops working before the answer is sent.");

        return endpoints;
    }

    static async Task<Created<TokenResponse>> CreateAsync(
        HttpContext httpContext,
        TokenRegistry registry,
        TimeProvider timeProvider,
        IOptions<TlsOptions> tls,
        ILogger<TokenRegistry> logger,
        CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(httpContext.Request, KeelJson.Context.CreateTokenRequest, cancellationToken);
        var now = timeProvider.GetUtcNow();
        var actor = httpContext.Actor();
        var (secret, hash) = TokenSecrets.Generate();
        var (kind, permissions, scopes, certificate) = Validate(body, now, tls.Value);
        var token = new AccessToken
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            Name = body.Name!,
            Kind = kind,
            Permissions = permissions,
            Scopes = scopes,
            ServiceName = body.ServiceName,
            Environment = body.Environment,
            SecretHash = hash,
            CreatedAt = now,
            CreatedBy = actor.Name,
            ExpiresAt = body.ExpiresAt,
            ClientCertificateSha256 = certificate,
        };

        await registry.SaveAsync(token, actor, cancellationToken);
        Log.TokenCreated(logger, token.Id, token.Name, actor.Name);
        return TypedResults.Created($"/api/v1/tokens/{token.Id}", TokenResponse.From(token, now, secret));
    }

    static async Task<JsonHttpResult<TokenListResponse>> ListAsync(
        HttpContext httpContext, TokenRegistry registry, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var tokens = await registry.ListAsync(cancellationToken);
        return TypedResults.Json(new TokenListResponse(tokens.Select(t => TokenResponse.From(t, now)).ToList()), KeelJson.Context.TokenListResponse);
    }

    static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string id, HttpContext httpContext, TokenRegistry registry, ILogger<TokenRegistry> logger, CancellationToken cancellationToken)
    {
        var actor = httpContext.Actor();
        var revoked = await registry.RevokeAsync(id, actor, cancellationToken);
        if (revoked is null)
        {
            return Problems.Result(KeelError.TokenNotFound, $"No active token has the id '{id}'.");
        }

        Log.TokenRevoked(logger, revoked.Id, revoked.Name, actor.Name);
        return TypedResults.NoContent();
    }

    static (TokenKind Kind, Permissions Permissions, IReadOnlyList<ScopePattern> Scopes, string? ClientCertificateSha256) Validate(
        CreateTokenRequest body, DateTimeOffset now, TlsOptions tls)
    {
        List<FieldError> errors = [];
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            errors.Add(new FieldError("name", "name is required."));
        }
        else if (body.Name.Length > MaxNameLength || body.Name.Any(char.IsControl) || body.Name != body.Name.Trim())
        {
            errors.Add(new FieldError("name", $"name must be at most {MaxNameLength} characters, without control characters or surrounding spaces."));
        }

        var kind = TokenKind.Api;
        if (body.Kind is not null && !TokenKinds.TryParse(body.Kind, out kind))
        {
            errors.Add(new FieldError("kind", $"kind must be {WireNames.TokenKinds.Api} or {WireNames.TokenKinds.Evaluation}."));
        }

        var permissions = Permissions.None;
        List<ScopePattern> scopes = [];
        if (kind == TokenKind.Api)
        {
            if (body.Permissions is not { Count: > 0 })
            {
                errors.Add(new FieldError("permissions", $"permissions must list at least one of {string.Join(", ", PermissionNames.All)}."));
            }
            else
            {
                for (var i = 0; i < body.Permissions.Count; i++)
                {
                    if (PermissionNames.TryParse(body.Permissions[i], out var permission))
                    {
                        permissions |= permission;
                    }
                    else
                    {
                        errors.Add(new FieldError(Index("permissions", i), $"'{body.Permissions[i]}' is not a permission; use {string.Join(", ", PermissionNames.All)}."));
                    }
                }
            }

            if (body.Scopes is not { Count: > 0 })
            {
                errors.Add(new FieldError("scopes", "scopes must list at least one service/environment pattern, such as my-service/* or */*."));
            }
            else if (body.Scopes.Count > MaxScopes)
            {
                errors.Add(new FieldError("scopes", $"scopes must list at most {MaxScopes} patterns."));
            }
            else
            {
                for (var i = 0; i < body.Scopes.Count; i++)
                {
                    if (ScopePattern.TryParse(body.Scopes[i], out var scope, out var error))
                    {
                        if (!scopes.Contains(scope))
                        {
                            scopes.Add(scope);
                        }
                    }
                    else
                    {
                        errors.Add(new FieldError(Index("scopes", i), error));
                    }
                }
            }

            if (body.ServiceName is not null)
            {
                errors.Add(new FieldError(ConfigNames.ServiceNameField, "service_name belongs to evaluation tokens; an api token is scoped by scopes."));
            }

            if (body.Environment is not null)
            {
                errors.Add(new FieldError(ConfigNames.EnvironmentField, "environment belongs to evaluation tokens; an api token is scoped by scopes."));
            }
        }
        else
        {
            ConfigNames.AddErrors(errors, body.ServiceName, body.Environment);

            if (body.Permissions is not null)
            {
                errors.Add(new FieldError("permissions", "An evaluation token has no permissions; leave permissions out."));
            }

            if (body.Scopes is not null)
            {
                errors.Add(new FieldError("scopes", "An evaluation token has no scopes; it is bound to service_name and environment."));
            }
        }

        if (body.ExpiresAt is { } expires && expires <= now)
        {
            errors.Add(new FieldError("expires_at", "expires_at must be in the future."));
        }

        var certificate = ValidateCertificateBinding(errors, body.ClientCertificateSha256, tls);
        if (errors.Count > 0)
        {
            throw new KeelException(
                KeelError.InvalidRequest, errors.Count == 1 ? errors[0].Message : $"The request has {errors.Count} invalid fields; see errors.", errors);
        }

        return (kind, permissions, scopes, certificate);
    }

    /// <summary>The certificate hash a token is bound to, in the form <see cref="TlsCertificates.Sha256"/> gives.</summary>
    static string? ValidateCertificateBinding(List<FieldError> errors, string? sha256, TlsOptions tls)
    {
        if (sha256 is null)
        {
            return null;
        }

        // Colons and case as `openssl x509 -fingerprint -sha256` prints them are accepted.
        var hex = sha256.Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            errors.Add(new FieldError(ClientCertificateField, $"{ClientCertificateField} must be the SHA-256 of the certificate's DER encoding, 64 hex digits."));
        }
        else if (tls.ClientCertificates == ClientCertificates.None)
        {
            errors.Add(new FieldError(
                ClientCertificateField,
                $"This server asks for no client certificate (Keel:Tls:ClientCertificates is None), so a token bound to one could never be used."));
        }

        return hex;
    }

    const string ClientCertificateField = "client_certificate_sha256";

    static string Index(string field, int i) => string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]");
}
