// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Security;
using Microsoft.Data.Sqlite;

namespace Keel.Storage.Sqlite;

public sealed partial class SqliteConfigStore
{
    const string TokenColumns =
        "id, name, kind, permissions, scopes, service_name, environment, secret_hash, created_at, created_by, expires_at, revoked_at";

    /// <inheritdoc/>
    /// <remarks>Never raised: only this process writes the database (the data folder's lock sees to it).</remarks>
    public event Action? TokensChanged
    {
        add { }
        remove { }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AccessToken>> ListTokensAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static async (connection, _, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {TokenColumns} FROM tokens ORDER BY created_at, id;";
            IReadOnlyList<AccessToken> tokens = await ReadAllAsync(command, ReadToken, 16, cancellationToken).ConfigureAwait(false);
            return tokens;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task SaveTokenAsync(AccessToken token, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((token, actor), static (writer, state, now) =>
        {
            var token = state.token;
            using (var command = writer.Command($"""
                INSERT INTO tokens ({TokenColumns})
                VALUES ($id, $name, $kind, $permissions, $scopes, $service_name, $environment, $secret_hash, $created_at, $created_by,
                        $expires_at, NULL)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, kind = excluded.kind, permissions = excluded.permissions, scopes = excluded.scopes,
                    service_name = excluded.service_name, environment = excluded.environment, secret_hash = excluded.secret_hash,
                    created_at = excluded.created_at, created_by = excluded.created_by, expires_at = excluded.expires_at,
                    revoked_at = NULL;
                """))
            {
                var p = command.Parameters;
                p.AddWithValue("$id", token.Id);
                p.AddWithValue("$name", token.Name);
                p.AddWithValue("$kind", token.Kind.ToWireName());
                p.AddWithValue("$permissions", PermissionNames.ToStored(token.Permissions));
                p.AddWithValue("$scopes", ScopePattern.ToStored(token.Scopes));
                p.AddWithValue("$service_name", (object?)token.ServiceName ?? DBNull.Value);
                p.AddWithValue("$environment", (object?)token.Environment ?? DBNull.Value);
                p.AddWithValue("$secret_hash", token.SecretHash);
                p.AddWithValue("$created_at", ToUnixMicroseconds(token.CreatedAt));
                p.AddWithValue("$created_by", token.CreatedBy);
                p.AddWithValue("$expires_at", token.ExpiresAt is { } expires ? ToUnixMicroseconds(expires) : DBNull.Value);
                command.ExecuteNonQuery();
            }

            writer.Audit(state.actor, WireNames.AuditActions.TokenCreate, token.Id, now);
            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<AccessToken?> RevokeTokenAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(actor);
        return WriteAsync((id, actor), static (writer, state, now) =>
        {
            AccessToken? revoked;
            using (var command = writer.Command($"""
                UPDATE tokens SET revoked_at = $now WHERE id = $id AND revoked_at IS NULL RETURNING {TokenColumns};
                """))
            {
                command.Parameters.AddWithValue("$id", state.id);
                command.Parameters.AddWithValue("$now", ToUnixMicroseconds(now));
                using var reader = command.ExecuteReader();
                revoked = reader.Read() ? ReadToken(reader) : null;
            }

            if (revoked is not null)
            {
                writer.Audit(state.actor, WireNames.AuditActions.TokenRevoke, revoked.Id, now);
            }

            return revoked;
        }, cancellationToken);
    }

    static AccessToken ReadToken(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Name = reader.GetString(1),
        Kind = TokenKinds.ParseStored(reader.GetString(2)),
        Permissions = PermissionNames.ParseStored(reader.GetString(3)),
        Scopes = ScopePattern.ParseStored(reader.GetString(4)),
        ServiceName = reader.IsDBNull(5) ? null : reader.GetString(5),
        Environment = reader.IsDBNull(6) ? null : reader.GetString(6),
        SecretHash = (byte[])reader[7],
        CreatedAt = FromUnixMicroseconds(reader.GetInt64(8)),
        CreatedBy = reader.GetString(9),
        ExpiresAt = reader.IsDBNull(10) ? null : FromUnixMicroseconds(reader.GetInt64(10)),
        RevokedAt = reader.IsDBNull(11) ? null : FromUnixMicroseconds(reader.GetInt64(11)),
    };
}
