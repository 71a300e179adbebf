// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using Keel.Core.Configs;

namespace Keel.Storage.Relational.Configs;

/// <summary>
/// The SQL of a key search, the same on every backend but for a few words of dialect: the rows walked in index order (the
/// window), the filter each must pass, and the page order. The order matches the <c>ix_configs_search</c> index, so a page
/// walks only the rows between its start and its last result, or as many as its budget allows.
/// </summary>
static class SearchSql
{
    /// <summary>The columns a search reads.</summary>
    public const string Columns =
        "search_key, service_name, environment, config_key, value_type, version, is_encrypted, updated_at";

    /// <summary>The order of results.</summary>
    public const string Order = "ORDER BY search_key, service_name, environment, config_key";

    /// <summary>
    /// The <c>WHERE</c> clause of the rows a search walks, in <see cref="Order"/>: the conditions an index range answers
    /// (live, not a flag, the prefix, the service, the position to start after). A budgeted search counts these rows.
    /// </summary>
    public static string Window(SearchQuery query, Sql select, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parameters = new Parameters(select, "w");
        var sql = new StringBuilder("WHERE ").Append(dialect.Live).Append(" AND ").Append(ConfigTable.NotFlags(select, dialect));
        if (query.Prefix is { Length: > 0 } prefix)
        {
            var folded = ConfigSearch.Fold(prefix);
            sql.Append(" AND search_key >= ").Append(parameters.Bind(folded)).Append(" AND search_key < ").Append(parameters.Bind(ConfigSearch.UpperBound(folded)));
        }

        if (query.ServiceName is not null)
        {
            sql.Append(" AND service_name = ").Append(parameters.Bind(query.ServiceName));
        }

        if (query.After is { } after)
        {
            sql.Append(" AND (search_key, service_name, environment, config_key) > (")
                .Append(parameters.Bind(after.SearchKey)).Append(", ").Append(parameters.Bind(after.ServiceName)).Append(", ")
                .Append(parameters.Bind(after.Environment)).Append(", ").Append(parameters.Bind(after.Key)).Append(')');
        }

        return sql.ToString();
    }

    /// <summary>
    /// The condition each walked row must meet to be a result: the text, environment, type, encryption and scopes, which no
    /// index range answers.
    /// </summary>
    public static string Filter(SearchQuery query, Sql select, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parameters = new Parameters(select, "f");
        var sql = new StringBuilder("1 = 1");
        if (query.Text is { Length: > 0 } text)
        {
            sql.Append(" AND ").Append(dialect.KeyContains("search_key", parameters.Bind(dialect.SubstringPattern(ConfigSearch.Fold(text)))));
        }

        if (query.Environment is not null)
        {
            sql.Append(" AND environment = ").Append(parameters.Bind(query.Environment));
        }

        if (query.ValueType is { } type)
        {
            sql.Append(" AND value_type = ").Append(parameters.Bind(type.ToWireName()));
        }

        if (query.IsEncrypted is { } encrypted)
        {
            sql.Append(" AND is_encrypted = ").Append(parameters.Bind(encrypted));
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
                sql.Append(i == 0 ? "(" : " OR (").Append(Side("service_name", scopes[i].Service, parameters))
                    .Append(" AND ").Append(Side("environment", scopes[i].Environment, parameters)).Append(')');
            }

            sql.Append(')');
        }

        return sql.ToString();
    }

    /// <summary>
    /// The page from rows read in order, one more than the limit asked for telling whether another page follows. A page
    /// that is not full ends at <paramref name="lastWalked"/> when the walk stopped at its budget there.
    /// </summary>
    public static SearchPage Page(List<(SearchPosition Position, SearchResult Result)> rows, int limit, SearchPosition? lastWalked)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count > limit)
        {
            var page = rows[..limit];
            return new SearchPage { Results = [.. page.Select(r => r.Result)], Next = page[^1].Position };
        }

        return new SearchPage { Results = [.. rows.Select(r => r.Result)], Next = lastWalked, BudgetReached = lastWalked is not null };
    }

    static string Side(string column, string pattern, Parameters parameters)
    {
        if (pattern == "*")
        {
            return "1 = 1";
        }

        if (pattern.EndsWith('*'))
        {
            var prefix = pattern[..^1];
            return $"{column} >= {parameters.Bind(prefix)} AND {column} < {parameters.Bind(ConfigSearch.UpperBound(prefix))}";
        }

        return $"{column} = {parameters.Bind(pattern)}";
    }

    /// <summary>Binds values under numbered names of one clause's own.</summary>
    sealed class Parameters(Sql select, string clause)
    {
        int _count;

        public string Bind(object value)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{clause}{_count++}");
            select.With(name, value);
            return "@" + name;
        }
    }
}
