// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Schemas;

namespace Keel.Storage.Sqlite;

public sealed partial class SqliteConfigStore
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<ConfigSchema>> ListSchemasAsync(string serviceName, CancellationToken cancellationToken) =>
        ReadAsync(serviceName, static async (connection, serviceName, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT service_name, key_pattern, schema, version, updated_at, updated_by FROM config_schemas
                WHERE service_name = $service_name AND schema IS NOT NULL ORDER BY key_pattern;
                """;
            command.Parameters.AddWithValue("$service_name", serviceName);
            IReadOnlyList<ConfigSchema> schemas = await ReadAllAsync(command, static r => new ConfigSchema
            {
                ServiceName = r.GetString(0),
                KeyPattern = r.GetString(1),
                Schema = r.GetString(2),
                Version = r.GetInt64(3),
                UpdatedAt = FromUnixMicroseconds(r.GetInt64(4)),
                UpdatedBy = r.GetString(5),
            }, 4, cancellationToken).ConfigureAwait(false);
            return schemas;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<ConfigSchema> PutSchemaAsync(string serviceName, string keyPattern, string schema, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return WriteAsync((serviceName, keyPattern, schema, actor), static (writer, request, now) =>
        {
            var version = writer.WriteSchema(request.serviceName, request.keyPattern, request.schema, request.actor, now, mustExist: false);
            return new ConfigSchema
            {
                ServiceName = request.serviceName,
                KeyPattern = request.keyPattern,
                Schema = request.schema,
                Version = version,
                UpdatedAt = now,
                UpdatedBy = request.actor.Name,
            };
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task DeleteSchemaAsync(string serviceName, string keyPattern, Actor actor, CancellationToken cancellationToken) =>
        WriteAsync((serviceName, keyPattern, actor), static (writer, request, now) =>
            writer.WriteSchema(request.serviceName, request.keyPattern, null, request.actor, now, mustExist: true), cancellationToken);

    sealed partial class Writer
    {
        /// <summary>Records a schema's next version (a delete when <paramref name="schema"/> is null) and its audit record.</summary>
        public long WriteSchema(string serviceName, string keyPattern, string? schema, Actor actor, DateTimeOffset now, bool mustExist)
        {
            long? current;
            using (var select = Command("""
                SELECT version, schema IS NOT NULL FROM config_schemas WHERE service_name = $service_name AND key_pattern = $key_pattern;
                """))
            {
                select.Parameters.AddWithValue("$service_name", serviceName);
                select.Parameters.AddWithValue("$key_pattern", keyPattern);
                using var reader = select.ExecuteReader();
                current = reader.Read() ? reader.GetInt64(0) : null;
                if (mustExist && (current is null || !reader.GetBoolean(1)))
                {
                    throw new KeelException(KeelError.SchemaNotFound, $"Service '{serviceName}' has no schema for key pattern '{keyPattern}'.");
                }
            }

            var version = (current ?? 0) + 1;
            using var write = Command("""
                INSERT INTO config_schemas (service_name, key_pattern, schema, version, updated_at, updated_by)
                VALUES ($service_name, $key_pattern, $schema, $version, $now, $actor)
                ON CONFLICT (service_name, key_pattern) DO UPDATE
                    SET schema = excluded.schema, version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by;
                INSERT INTO config_schema_versions (service_name, key_pattern, version, schema, created_at, created_by)
                VALUES ($service_name, $key_pattern, $version, $schema, $now, $actor);
                """);
            write.Parameters.AddWithValue("$service_name", serviceName);
            write.Parameters.AddWithValue("$key_pattern", keyPattern);
            write.Parameters.AddWithValue("$schema", (object?)schema ?? DBNull.Value);
            write.Parameters.AddWithValue("$version", version);
            write.Parameters.AddWithValue("$now", ToUnixMicroseconds(now));
            write.Parameters.AddWithValue("$actor", actor.Name);
            write.ExecuteNonQuery();
            Audit(
                actor,
                schema is null ? Core.WireNames.AuditActions.SchemaDelete : Core.WireNames.AuditActions.SchemaPut,
                keyPattern,
                now,
                serviceName,
                fromVersion: current,
                toVersion: version);
            return version;
        }
    }
}
