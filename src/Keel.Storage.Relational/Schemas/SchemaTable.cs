// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Audit;
using Keel.Core.Schemas;
using Keel.Core.Storage;
using Keel.Storage.Relational.Audit;

namespace Keel.Storage.Relational.Schemas;

/// <summary>The JSON schemas of a service's key patterns, versioned like values; a delete is a version without a schema.</summary>
sealed class SchemaTable(RelationalDatabase db) : ISchemaStore
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<ConfigSchema>> ListSchemasAsync(string serviceName, CancellationToken cancellationToken) =>
        db.ReadAsync(serviceName, static async (session, serviceName, cancellationToken) =>
        {
            using var select = session.Sql("""
                SELECT service_name, key_pattern, schema, version, updated_at, updated_by FROM config_schemas
                WHERE service_name = @service_name AND schema IS NOT NULL ORDER BY key_pattern;
                """);
            IReadOnlyList<ConfigSchema> schemas = await select.With("service_name", serviceName).RowsAsync(static (r, d) => new ConfigSchema
            {
                ServiceName = r.GetString("service_name"),
                KeyPattern = r.GetString("key_pattern"),
                Schema = r.GetString("schema"),
                Version = r.GetInt64("version"),
                UpdatedAt = r.GetTime(d, "updated_at"),
                UpdatedBy = r.GetString("updated_by"),
            }, cancellationToken).ConfigureAwait(false);
            return schemas;
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<ConfigSchema> PutSchemaAsync(string serviceName, string keyPattern, string schema, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var (version, now) = await WriteAsync(serviceName, keyPattern, schema, actor, cancellationToken).ConfigureAwait(false);
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
        WriteAsync(serviceName, keyPattern, null, actor, cancellationToken);

    /// <summary>Records a schema's next version (a delete when <paramref name="schema"/> is null) and its audit record.</summary>
    Task<(long Version, DateTimeOffset Now)> WriteAsync(
        string serviceName, string keyPattern, string? schema, Actor actor, CancellationToken cancellationToken) =>
        db.WriteAsync((serviceName, keyPattern, schema, actor), static async (write, request, cancellationToken) =>
        {
            // A placeholder row (version 0, rolled back with a failed change) gives two first puts a row to queue on.
            (long Version, bool Live) current;
            using (var select = write.Sql($"""
                INSERT INTO config_schemas (service_name, key_pattern, schema, version, updated_at, updated_by)
                VALUES (@service_name, @key_pattern, NULL, 0, @now, '')
                ON CONFLICT (service_name, key_pattern) DO NOTHING;
                SELECT version, schema IS NOT NULL FROM config_schemas
                WHERE service_name = @service_name AND key_pattern = @key_pattern{write.Dialect.ForUpdate()};
                """))
            {
                current = (await select.With("service_name", request.serviceName).With("key_pattern", request.keyPattern).With("now", write.Now)
                    .RowsAsync(static (r, _) => (r.GetInt64(0), r.GetBoolean(1)), cancellationToken).ConfigureAwait(false))[0];
            }

            if (request.schema is null && !current.Live)
            {
                throw new KeelException(
                    KeelError.SchemaNotFound, $"Service '{request.serviceName}' has no schema for key pattern '{request.keyPattern}'.");
            }

            var version = current.Version + 1;
            using (var upsert = write.Sql("""
                UPDATE config_schemas SET schema = @schema, version = @version, updated_at = @now, updated_by = @actor
                WHERE service_name = @service_name AND key_pattern = @key_pattern;
                INSERT INTO config_schema_versions (service_name, key_pattern, version, schema, created_at, created_by)
                VALUES (@service_name, @key_pattern, @version, @schema, @now, @actor);
                """))
            {
                await upsert.With("service_name", request.serviceName).With("key_pattern", request.keyPattern).With("schema", request.schema)
                    .With("version", version).With("now", write.Now).With("actor", request.actor.Name)
                    .ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }

            await AuditLog.AppendAsync(
                write,
                request.actor,
                request.schema is null ? WireNames.AuditActions.SchemaDelete : WireNames.AuditActions.SchemaPut,
                request.keyPattern,
                cancellationToken,
                request.serviceName,
                fromVersion: current.Version == 0 ? null : current.Version,
                toVersion: version).ConfigureAwait(false);
            return (version, write.Now);
        }, cancellationToken);
}
