// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Schemas;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<ConfigSchema>> ListSchemasAsync(string serviceName, CancellationToken cancellationToken) =>
        ReadAsync(serviceName, static async (connection, serviceName, cancellationToken) =>
        {
            using var command = new NpgsqlCommand("""
                SELECT service_name, key_pattern, schema, version, updated_at, updated_by FROM config_schemas
                WHERE service_name = @service_name AND schema IS NOT NULL ORDER BY key_pattern;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<string>("service_name", serviceName));
            IReadOnlyList<ConfigSchema> schemas = await ReadAllAsync(command, static r => new ConfigSchema
            {
                ServiceName = r.GetString(0),
                KeyPattern = r.GetString(1),
                Schema = r.GetString(2),
                Version = r.GetInt64(3),
                UpdatedAt = r.GetFieldValue<DateTimeOffset>(4),
                UpdatedBy = r.GetString(5),
            }, 4, cancellationToken).ConfigureAwait(false);
            return schemas;
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<ConfigSchema> PutSchemaAsync(string serviceName, string keyPattern, string schema, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var (version, now) = await WriteSchemaAsync(serviceName, keyPattern, schema, actor, cancellationToken).ConfigureAwait(false);
        return new ConfigSchema
        {
            ServiceName = serviceName,
            KeyPattern = keyPattern,
            Schema = schema,
            Version = version,
            UpdatedAt = now,
            UpdatedBy = actor.Name,
        };
    }

    /// <inheritdoc/>
    public Task DeleteSchemaAsync(string serviceName, string keyPattern, Actor actor, CancellationToken cancellationToken) =>
        WriteSchemaAsync(serviceName, keyPattern, null, actor, cancellationToken);

    /// <summary>Records a schema's next version (a delete when <paramref name="schema"/> is null) and its audit record.</summary>
    Task<(long Version, DateTimeOffset Now)> WriteSchemaAsync(
        string serviceName, string keyPattern, string? schema, Actor actor, CancellationToken cancellationToken) =>
        WriteAsync((serviceName, keyPattern, schema, actor), static async (_, write, request, cancellationToken) =>
        {
            long? current;
            // A placeholder row (version 0, rolled back with a failed change) gives two first puts a row to queue on.
            using (var select = write.Command("""
                INSERT INTO config_schemas (service_name, key_pattern, schema, version, updated_at, updated_by)
                VALUES (@service_name, @key_pattern, NULL, 0, now(), '')
                ON CONFLICT (service_name, key_pattern) DO NOTHING;
                SELECT version, schema IS NOT NULL FROM config_schemas
                WHERE service_name = @service_name AND key_pattern = @key_pattern FOR UPDATE;
                """))
            {
                select.Parameters.Add(new NpgsqlParameter<string>("service_name", request.serviceName));
                select.Parameters.Add(new NpgsqlParameter<string>("key_pattern", request.keyPattern));
                var rows = await ReadAllAsync(select, static r => (r.GetInt64(0), r.GetBoolean(1)), 1, cancellationToken).ConfigureAwait(false);
                current = rows[0].Item1 == 0 ? null : rows[0].Item1;
                if (request.schema is null && !rows[0].Item2)
                {
                    throw new KeelException(
                        KeelError.SchemaNotFound, $"Service '{request.serviceName}' has no schema for key pattern '{request.keyPattern}'.");
                }
            }

            var version = (current ?? 0) + 1;
            using var batch = write.Batch();
            (string, object?)[] values =
            [
                ("service_name", request.serviceName), ("key_pattern", request.keyPattern), ("schema", Nullable(request.schema)),
                ("version", version), ("now", write.Now), ("actor", request.actor.Name),
            ];
            batch.BatchCommands.Add(Statement(
                """
                INSERT INTO config_schemas (service_name, key_pattern, schema, version, updated_at, updated_by)
                VALUES (@service_name, @key_pattern, @schema, @version, @now, @actor)
                ON CONFLICT (service_name, key_pattern) DO UPDATE
                    SET schema = excluded.schema, version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by;
                """,
                values));
            batch.BatchCommands.Add(Statement(
                """
                INSERT INTO config_schema_versions (service_name, key_pattern, version, schema, created_at, created_by)
                VALUES (@service_name, @key_pattern, @version, @schema, @now, @actor);
                """,
                values));
            batch.BatchCommands.Add(AuditStatement(
                request.actor,
                request.schema is null ? WireNames.AuditActions.SchemaDelete : WireNames.AuditActions.SchemaPut,
                request.keyPattern,
                write.Now,
                request.serviceName,
                fromVersion: current,
                toVersion: version));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return (version, write.Now);
        }, cancellationToken);
}
