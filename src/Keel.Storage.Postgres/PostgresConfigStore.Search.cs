// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Npgsql;

namespace Keel.Storage.Postgres;

public sealed partial class PostgresConfigStore
{
    /// <inheritdoc/>
    public Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return ReadAsync(query, static async (connection, query, cancellationToken) =>
        {
            var (where, parameters) = SearchSql.Where(query, "@", "strpos({0}, {1}) > 0", "NOT is_deleted");
            using var command = new NpgsqlCommand($"SELECT {SearchSql.Columns} FROM configs {where} {SearchSql.Order} LIMIT @limit;", connection);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.Add(Parameter(name, value));
            }

            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit + 1));
            var rows = await ReadAllAsync(command, static r => (
                new SearchPosition(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)),
                new SearchResult(
                    new ConfigId(r.GetString(1), r.GetString(2), r.GetString(3)),
                    ConfigValueTypes.ParseStored(r.GetString(4)),
                    r.GetInt64(5),
                    r.GetBoolean(6),
                    r.GetFieldValue<DateTimeOffset>(7))), Math.Min(query.Limit + 1, 256), cancellationToken).ConfigureAwait(false);
            return SearchSql.Page(rows, query.Limit);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigEntry>> ListServiceAsync(string serviceName, string keyPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        var entries = await ReadAsync((serviceName, keyPrefix), static async (connection, query, cancellationToken) =>
        {
            using var command = new NpgsqlCommand($"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = @service_name AND NOT is_deleted AND config_key >= @prefix AND config_key < @upper
                      AND strpos(environment, '#') = 0
                ORDER BY environment, config_key;
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<string>("service_name", query.serviceName));
            command.Parameters.Add(new NpgsqlParameter<string>("prefix", query.keyPrefix));
            command.Parameters.Add(new NpgsqlParameter<string>("upper", ConfigSearch.UpperBound(query.keyPrefix)));
            return await ReadAllAsync(command, ReadEntry, 64, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return await RevealAllAsync(entries, cancellationToken).ConfigureAwait(false);
    }
}
