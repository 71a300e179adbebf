// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Security;
using Keel.Core.Storage;
using Keel.Storage.Relational.Audit;

namespace Keel.Storage.Relational.Tokens;

/// <summary>API tokens: their hashed secrets, permissions and scopes; a revoked token keeps its row.</summary>
sealed class TokenTable(RelationalDatabase db) : ITokenStore
{
    const string Columns =
        "id, name, kind, permissions, scopes, service_name, environment, secret_hash, created_at, created_by, expires_at, revoked_at, " +
        "client_certificate_sha256";

    /// <inheritdoc/>
    /// <remarks>Raised for changes another node made; this node's own writes are known to their caller.</remarks>
    public event Action? TokensChanged
    {
        add => db.TokensChanged += value;
        remove => db.TokensChanged -= value;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AccessToken>> ListTokensAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(0, static async (session, _, cancellationToken) =>
        {
            using var select = session.Sql($"SELECT {Columns} FROM tokens ORDER BY created_at, id;");
            IReadOnlyList<AccessToken> tokens = await select.RowsAsync(Read, cancellationToken, 16).ConfigureAwait(false);
            return tokens;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task SaveTokenAsync(AccessToken token, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(actor);
        return db.WriteAsync((token, actor), static async (write, state, cancellationToken) =>
        {
            var token = state.token;
            using (var insert = write.Sql($"""
                INSERT INTO tokens ({Columns})
                VALUES (@id, @name, @kind, @permissions, @scopes, @service_name, @environment, @secret_hash, @created_at, @created_by,
                        @expires_at, NULL, @client_certificate_sha256)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, kind = excluded.kind, permissions = excluded.permissions, scopes = excluded.scopes,
                    service_name = excluded.service_name, environment = excluded.environment, secret_hash = excluded.secret_hash,
                    created_at = excluded.created_at, created_by = excluded.created_by, expires_at = excluded.expires_at,
                    revoked_at = NULL, client_certificate_sha256 = excluded.client_certificate_sha256;
                """))
            {
                await insert.With("id", token.Id).With("name", token.Name).With("kind", token.Kind.ToWireName())
                    .With("permissions", PermissionNames.ToStored(token.Permissions)).With("scopes", ScopePattern.ToStored(token.Scopes))
                    .With("service_name", token.ServiceName).With("environment", token.Environment).With("secret_hash", token.SecretHash)
                    .With("created_at", token.CreatedAt).With("created_by", token.CreatedBy).With("expires_at", token.ExpiresAt)
                    .With("client_certificate_sha256", token.ClientCertificateSha256).ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }

            await AuditLog.AppendAsync(write, state.actor, WireNames.AuditActions.TokenCreate, token.Id, cancellationToken).ConfigureAwait(false);
            await write.NotifyAsync(StoreSignal.Tokens, cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<AccessToken?> RevokeTokenAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(actor);
        return db.WriteAsync((id, actor), static async (write, state, cancellationToken) =>
        {
            AccessToken? revoked;
            using (var update = write.Sql($"UPDATE tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL RETURNING {Columns};"))
            {
                revoked = await update.With("id", state.id).With("now", write.Now).FirstAsync(Read, cancellationToken).ConfigureAwait(false);
            }

            if (revoked is not null)
            {
                await AuditLog.AppendAsync(write, state.actor, WireNames.AuditActions.TokenRevoke, revoked.Id, cancellationToken).ConfigureAwait(false);
                await write.NotifyAsync(StoreSignal.Tokens, cancellationToken).ConfigureAwait(false);
            }

            return revoked;
        }, cancellationToken);
    }

    static AccessToken Read(DbDataReader r, SqlDialect d) => new()
    {
        Id = r.GetString("id"),
        Name = r.GetString("name"),
        Kind = TokenKinds.ParseStored(r.GetString("kind")),
        Permissions = PermissionNames.ParseStored(r.GetString("permissions")),
        Scopes = ScopePattern.ParseStored(r.GetString("scopes")),
        ServiceName = r.GetStringOrNull("service_name"),
        Environment = r.GetStringOrNull("environment"),
        SecretHash = r.GetFieldValue<byte[]>(r.GetOrdinal("secret_hash")),
        CreatedAt = r.GetTime(d, "created_at"),
        CreatedBy = r.GetString("created_by"),
        ExpiresAt = r.GetTimeOrNull(d, "expires_at"),
        RevokedAt = r.GetTimeOrNull(d, "revoked_at"),
        ClientCertificateSha256 = r.GetStringOrNull("client_certificate_sha256"),
    };
}
