// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Security;

namespace Keel.Server.Tokens;

sealed class TokenResponse
{
    public required string Id { get; init; }

    /// <summary>The secret; present only in the answer that creates the token.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Token { get; init; }

    public required string Name { get; init; }

    public required string Kind { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Permissions { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Scopes { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ServiceName { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Environment { get; init; }

    public required DateTime CreatedAt { get; init; }

    public required string CreatedBy { get; init; }

    public DateTime? ExpiresAt { get; init; }

    public DateTime? RevokedAt { get; init; }

    /// <summary>The SHA-256 of the client certificate the token is bound to.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientCertificateSha256 { get; init; }

    /// <summary><c>active</c>, <c>expired</c> or <c>revoked</c>.</summary>
    public required string Status { get; init; }

    public static TokenResponse From(AccessToken token, DateTimeOffset now, string? secret = null) => new()
    {
        Id = token.Id,
        Token = secret,
        Name = token.Name,
        Kind = token.Kind.ToWireName(),
        Permissions = token.Kind == TokenKind.Api ? PermissionNames.ToWireNames(token.Permissions) : null,
        Scopes = token.Kind == TokenKind.Api ? token.Scopes.Select(s => s.Text).ToList() : null,
        ServiceName = token.ServiceName,
        Environment = token.Environment,
        CreatedAt = token.CreatedAt.UtcDateTime,
        CreatedBy = token.CreatedBy,
        ExpiresAt = token.ExpiresAt?.UtcDateTime,
        RevokedAt = token.RevokedAt?.UtcDateTime,
        ClientCertificateSha256 = token.ClientCertificateSha256,
        Status = token.RevokedAt is not null ? "revoked" : token.IsActiveAt(now) ? "active" : "expired",
    };
}
