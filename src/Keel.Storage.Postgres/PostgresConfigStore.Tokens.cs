// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Security;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    const string TokenColumns =
        "id, name, kind, permissions, scopes, service_name, environment, secret_hash, created_at, created_by, expires_at, revoked_at";

    /// <inheritdoc/>
    public event Action? TokensChanged;

    /// <inheritdoc/>
    public Task<IReadOnlyList<AccessToken>> ListTokensAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static async (connection, _, cancellationToken) =>
        {
            using var command = new NpgsqlCommand($"SELECT {TokenColumns} FROM tokens ORDER BY created_at, id;", connection);
            IReadOnlyList<AccessToken> tokens = await ReadAllAsync(command, ReadToken, 16, cancellationToken).ConfigureAwait(false);
            return tokens;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task SaveTokenAsync(AccessToken token, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((token, actor), static async (_, write, state, cancellationToken) =>
        {
            var token = state.token;
            using var batch = write.Batch();
            batch.BatchCommands.Add(Statement(
                $"""
                INSERT INTO tokens ({TokenColumns})
                VALUES (@id, @name, @kind, @permissions, @scopes, @service_name, @environment, @secret_hash, @created_at, @created_by,
                        @expires_at, NULL)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, kind = excluded.kind, permissions = excluded.permissions, scopes = excluded.scopes,
                    service_name = excluded.service_name, environment = excluded.environment, secret_hash = excluded.secret_hash,
                    created_at = excluded.created_at, created_by = excluded.created_by, expires_at = excluded.expires_at,
                    revoked_at = NULL;
                """,
                ("id", token.Id), ("name", token.Name), ("kind", token.Kind.ToWireName()),
                ("permissions", PermissionNames.ToStored(token.Permissions)), ("scopes", ScopePattern.ToStored(token.Scopes)),
                ("service_name", Nullable(token.ServiceName)), ("environment", Nullable(token.Environment)),
                ("secret_hash", token.SecretHash), ("created_at", token.CreatedAt), ("created_by", token.CreatedBy),
                ("expires_at", Nullable(token.ExpiresAt))));
            batch.BatchCommands.Add(AuditStatement(state.actor, WireNames.AuditActions.TokenCreate, token.Id, write.Now));
            batch.BatchCommands.Add(NotifyTokens());
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<AccessToken?> RevokeTokenAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((id, actor), static async (_, write, state, cancellationToken) =>
        {
            using var update = write.Command($"UPDATE tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL RETURNING {TokenColumns};");
            update.Parameters.Add(new NpgsqlParameter<string>("id", state.id));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", write.Now));
            var revoked = (await ReadAllAsync(update, ReadToken, 1, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            if (revoked is not null)
            {
                using var batch = write.Batch();
                batch.BatchCommands.Add(AuditStatement(state.actor, WireNames.AuditActions.TokenRevoke, revoked.Id, write.Now));
                batch.BatchCommands.Add(NotifyTokens());
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return revoked;
        }, cancellationToken);
    }

    static NpgsqlBatchCommand NotifyTokens() => new($"SELECT pg_notify('{Channel}', 't');");

    static AccessToken ReadToken(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Name = reader.GetString(1),
        Kind = TokenKinds.ParseStored(reader.GetString(2)),
        Permissions = PermissionNames.ParseStored(reader.GetString(3)),
        Scopes = ScopePattern.ParseStored(reader.GetString(4)),
        ServiceName = reader.IsDBNull(5) ? null : reader.GetString(5),
        Environment = reader.IsDBNull(6) ? null : reader.GetString(6),
        SecretHash = reader.GetFieldValue<byte[]>(7),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(8),
        CreatedBy = reader.GetString(9),
        ExpiresAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
        RevokedAt = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
    };
}
