// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Security;

/// <summary>What a token is for.</summary>
public enum TokenKind
{
    /// <summary>Calls the API with its permissions, within its scopes.</summary>
    Api,

    /// <summary>Evaluates the feature flags of one service and environment over OFREP, and nothing else.</summary>
    Evaluation,
}

/// <summary>The wire names of <see cref="TokenKind"/>.</summary>
public static class TokenKinds
{
    /// <summary>The wire name of a kind.</summary>
    public static string ToWireName(this TokenKind kind) =>
        kind == TokenKind.Evaluation ? WireNames.TokenKinds.Evaluation : WireNames.TokenKinds.Api;

    /// <summary>Parses a wire name.</summary>
    /// <param name="name">The name.</param>
    /// <param name="kind">The kind, when the name is known.</param>
    public static bool TryParse(string? name, out TokenKind kind)
    {
        kind = name == WireNames.TokenKinds.Evaluation ? TokenKind.Evaluation : TokenKind.Api;
        return name is WireNames.TokenKinds.Api or WireNames.TokenKinds.Evaluation;
    }

    /// <summary>Parses a name a store wrote.</summary>
    /// <exception cref="FormatException">The name is not a kind.</exception>
    public static TokenKind ParseStored(string name) =>
        TryParse(name, out var kind) ? kind : throw new FormatException($"'{name}' is not a token kind.");
}

/// <summary>A token as the store keeps it: its secret only as a hash.</summary>
public sealed class AccessToken
{
    /// <summary>The token's id, shown in listings and audit records.</summary>
    public required string Id { get; init; }

    /// <summary>The token's name; changes made with the token are attributed to it.</summary>
    public required string Name { get; init; }

    /// <summary>What the token is for.</summary>
    public TokenKind Kind { get; init; }

    /// <summary>The permissions of an <see cref="TokenKind.Api"/> token.</summary>
    public Permissions Permissions { get; init; }

    /// <summary>The service/environment pairs an <see cref="TokenKind.Api"/> token may touch.</summary>
    public IReadOnlyList<ScopePattern> Scopes { get; init; } = [];

    /// <summary>The service of an <see cref="TokenKind.Evaluation"/> token.</summary>
    public string? ServiceName { get; init; }

    /// <summary>The environment of an <see cref="TokenKind.Evaluation"/> token.</summary>
    public string? Environment { get; init; }

    /// <summary>
    /// The SHA-256 (lower-case hex) of the client certificate the token is bound to, if any: the token then authenticates
    /// only over a connection that presented that certificate.
    /// </summary>
    public string? ClientCertificateSha256 { get; init; }

    /// <summary>SHA-256 of the secret.</summary>
    public required byte[] SecretHash { get; init; }

    /// <summary>When the token was made.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The name of the token that made it.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>When the token stops working, if ever.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When the token was revoked, if it was.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Whether the token authenticates at <paramref name="now"/>.</summary>
    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is not { } expires || now < expires);

    /// <summary>Whether the token holds <paramref name="permission"/>; <see cref="Permissions.Admin"/> holds them all.</summary>
    public bool Has(Permissions permission) =>
        Kind == TokenKind.Api && ((Permissions & Permissions.Admin) != 0 || (Permissions & permission) == permission);

    /// <summary>Whether the token's scopes cover a service and environment.</summary>
    public bool Covers(string serviceName, string environment)
    {
        if (Kind != TokenKind.Api)
        {
            return false;
        }

        foreach (var scope in Scopes)
        {
            if (scope.Matches(serviceName, environment))
            {
                return true;
            }
        }

        return false;
    }
}
