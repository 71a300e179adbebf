// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;
using Keel.Core.Audit;
using Keel.Core.Encryption;
using Keel.Core.Flags;
using Keel.Core.Security;

namespace Keel.Server.Api;

sealed class CreateTokenRequest
{
    public string? Name { get; set; }

    public string? Kind { get; set; }

    public List<string>? Permissions { get; set; }

    public List<string>? Scopes { get; set; }

    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

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
        Status = token.RevokedAt is not null ? "revoked" : token.IsActiveAt(now) ? "active" : "expired",
    };
}

sealed record TokenListResponse(IReadOnlyList<TokenResponse> Tokens);

sealed record AuditActorResponse(string? TokenId, string Name);

sealed record AuditRecordResponse(
    long Id,
    DateTime Time,
    AuditActorResponse Actor,
    string? ClientAddress,
    string Action,
    string? ServiceName,
    string? Environment,
    string Target,
    long? FromVersion,
    long? ToVersion,
    long? Revision,
    string? RequestId)
{
    /// <summary>The record as the API shows it; a flag's change reads as a flag action in the flag's environment.</summary>
    public static AuditRecordResponse From(AuditRecord r)
    {
        var flag = r.Environment is { } stored && FlagStorage.IsFlagEnvironment(stored);
        return new(
            r.Id,
            r.Time.UtcDateTime,
            new AuditActorResponse(r.ActorTokenId, r.ActorName),
            r.ClientAddress,
            flag && r.Action.StartsWith(ConfigActionPrefix, StringComparison.Ordinal) ? "flag." + r.Action[ConfigActionPrefix.Length..] : r.Action,
            r.ServiceName,
            flag ? FlagStorage.PublicEnvironment(r.Environment!) : r.Environment,
            r.Target,
            r.FromVersion,
            r.ToVersion,
            r.Revision,
            r.RequestId);
    }

    const string ConfigActionPrefix = "config.";
}

sealed record AuditResponse(IReadOnlyList<AuditRecordResponse> Records, string? NextCursor);

sealed record EncryptionKeyItem(int Id, bool Active, DateTime CreatedAt)
{
    public static EncryptionKeyItem From(EncryptionKeyInfo key) => new(key.Id, key.IsActive, key.CreatedAt.UtcDateTime);
}

sealed record EncryptionKeysResponse(int ActiveKeyId, IReadOnlyList<EncryptionKeyItem> Keys);

sealed record KeyRotationResponse(int ActiveKeyId, long ReencryptedValues, long ReencryptedVersions, IReadOnlyList<int> RetiredKeyIds, long Undecryptable)
{
    public static KeyRotationResponse From(KeyRotationResult r) =>
        new(r.ActiveKeyId, r.ReencryptedValues, r.ReencryptedVersions, r.RetiredKeyIds, r.UndecryptableCount);
}
