// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Storage.Relational.Migrations;

/// <summary>Brings a database's schema up to the newest migration, recording each in <c>keel_schema_migrations</c>.</summary>
static class MigrationRunner
{
    /// <summary>
    /// Applies every migration newer than the database, each in its own transaction unless <paramref name="session"/> runs in
    /// one already (which then holds them all).
    /// </summary>
    /// <returns>The schema version the database is at.</returns>
    /// <exception cref="InvalidOperationException">The database is newer than the newest migration.</exception>
    public static async Task<int> RunAsync(
        Session session, IReadOnlyList<(int Version, string Name, string Sql)> migrations, RelationalDatabase database, CancellationToken cancellationToken)
    {
        using (var create = session.Sql(session.Dialect.MigrationsTable))
        {
            await create.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }

        int current;
        using (var select = session.Sql("SELECT COALESCE(MAX(version), 0) FROM keel_schema_migrations;"))
        {
            current = (int)await select.Int64Async(cancellationToken).ConfigureAwait(false);
        }

        var latest = migrations[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"The database {database.Name} is at schema version {current}, newer than this Keel knows ({latest}). Run a newer Keel.");
        }

        foreach (var migration in migrations)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            var own = session.Transaction is null
                ? await session.Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false)
                : null;
            try
            {
                var step = own is null ? session : new Session(session.Connection, own, session.Dialect);
                using (var apply = step.Sql(migration.Sql))
                {
                    await apply.ExecuteAsync(cancellationToken).ConfigureAwait(false);
                }

                using (var record = step.Sql("INSERT INTO keel_schema_migrations (version, name, applied_at) VALUES (@version, @name, @applied_at);"))
                {
                    await record.With("version", migration.Version).With("name", migration.Name).With("applied_at", database.Time.GetUtcNow())
                        .ExecuteAsync(cancellationToken).ConfigureAwait(false);
                }

                if (own is not null)
                {
                    await own.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                if (own is not null)
                {
                    await own.DisposeAsync().ConfigureAwait(false);
                }
            }

            Log.MigrationApplied(database.Logger, session.Dialect.Engine, migration.Version, migration.Name);
            current = migration.Version;
        }

        return current;
    }
}
