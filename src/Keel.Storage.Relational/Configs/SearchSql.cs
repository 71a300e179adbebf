// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using Keel.Core.Configs;

namespace Keel.Storage.Relational.Configs;

/// <summary>
/// The SQL of a key search, the same on every backend but for a few words of dialect: the filter, the page order and the
/// position to start after. The order matches the <c>ix_configs_search</c> index, so a page reads only its own rows.
/// </summary>
static class SearchSql
{
    /// <summary>The columns a search reads.</summary>
    public const string Columns =
        "search_key, service_name, environment, config_key, value_type, version, is_encrypted, updated_at";

    /// <summary>The order of results.</summary>
    public const string Order = "ORDER BY search_key, service_name, environment, config_key";

    /// <summary>Builds the <c>WHERE</c> clause of <paramref name="query"/>, binding its parameters to <paramref name="select"/>.</summary>
    public static string Where(SearchQuery query, Sql select, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder("WHERE NOT is_deleted AND ").Append(ConfigTable.NotFlags(select, dialect));
        var count = 0;
        string Parameter(object value)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"p{count++}");
            select.With(name, value);
            return "@" + name;
        }

        if (query.Text is { Length: > 0 } text)
        {
            sql.Append(" AND ").Append(dialect.Contains("search_key", Parameter(ConfigSearch.Fold(text))));
        }

        if (query.Prefix is { Length: > 0 } prefix)
        {
            var folded = ConfigSearch.Fold(prefix);
            sql.Append(" AND search_key >= ").Append(Parameter(folded)).Append(" AND search_key < ").Append(Parameter(ConfigSearch.UpperBound(folded)));
        }

        if (query.ServiceName is not null)
        {
            sql.Append(" AND service_name = ").Append(Parameter(query.ServiceName));
        }

        if (query.Environment is not null)
        {
            sql.Append(" AND environment = ").Append(Parameter(query.Environment));
        }

        if (query.ValueType is { } type)
        {
            sql.Append(" AND value_type = ").Append(Parameter(type.ToWireName()));
        }

        if (query.IsEncrypted is { } encrypted)
        {
            sql.Append(" AND is_encrypted = ").Append(Parameter(encrypted));
        }

        if (query.Scopes is { } scopes && !scopes.Any(s => s.IsEverything))
        {
            sql.Append(" AND (");
            if (scopes.Count == 0)
            {
                sql.Append("1 = 0");
            }

            for (var i = 0; i < scopes.Count; i++)
            {
                sql.Append(i == 0 ? "(" : " OR (").Append(Side("service_name", scopes[i].Service, Parameter))
                    .Append(" AND ").Append(Side("environment", scopes[i].Environment, Parameter)).Append(')');
            }

            sql.Append(')');
        }

        if (query.After is { } after)
        {
            sql.Append(" AND (search_key, service_name, environment, config_key) > (")
                .Append(Parameter(after.SearchKey)).Append(", ").Append(Parameter(after.ServiceName)).Append(", ")
                .Append(Parameter(after.Environment)).Append(", ").Append(Parameter(after.Key)).Append(')');
        }

        return sql.ToString();
    }

    /// <summary>The page from rows read in order, one more than the limit asked for telling whether another page follows.</summary>
    public static SearchPage Page(List<(SearchPosition Position, SearchResult Result)> rows, int limit)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var more = rows.Count > limit;
        var page = more ? rows[..limit] : rows;
        return new SearchPage { Results = [.. page.Select(r => r.Result)], Next = more ? page[^1].Position : null };
    }

    static string Side(string column, string pattern, Func<object, string> parameter)
    {
        if (pattern == "*")
        {
            return "1 = 1";
        }

        if (pattern.EndsWith('*'))
        {
            var prefix = pattern[..^1];
            return $"{column} >= {parameter(prefix)} AND {column} < {parameter(ConfigSearch.UpperBound(prefix))}";
        }

        return $"{column} = {parameter(pattern)}";
    }
}
