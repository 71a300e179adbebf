// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Storage.Sqlite;

public sealed partial class SqliteConfigStore
{
    /// <inheritdoc/>
    public Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return ReadAsync(query, static async (connection, query, cancellationToken) =>
        {
            var (where, parameters) = SearchSql.Where(query, "$", "instr({0}, {1}) > 0", "is_deleted = 0");
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {SearchSql.Columns} FROM configs {where} {SearchSql.Order} LIMIT $limit;";
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue("$" + name, value);
            }

            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            var rows = await ReadAllAsync(command, static r => (
                new SearchPosition(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)),
                new SearchResult(
                    new ConfigId(r.GetString(1), r.GetString(2), r.GetString(3)),
                    ConfigValueTypes.ParseStored(r.GetString(4)),
                    r.GetInt64(5),
                    r.GetBoolean(6),
                    FromUnixMicroseconds(r.GetInt64(7)))), Math.Min(query.Limit + 1, 256), cancellationToken).ConfigureAwait(false);
            return SearchSql.Page(rows, query.Limit);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigEntry>> ListServiceAsync(string serviceName, string keyPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        var entries = await ReadAsync((serviceName, keyPrefix), static async (connection, query, cancellationToken) =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = $service_name AND is_deleted = 0 AND config_key >= $prefix AND config_key < $upper
                      AND instr(environment, '#') = 0
                ORDER BY environment, config_key;
                """;
            command.Parameters.AddWithValue("$service_name", query.serviceName);
            command.Parameters.AddWithValue("$prefix", query.keyPrefix);
            command.Parameters.AddWithValue("$upper", ConfigSearch.UpperBound(query.keyPrefix));
            return await ReadAllAsync(command, ReadEntry, 64, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return entries.ConvertAll(Reveal);
    }
}
