// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Storage.Relational;
using Npgsql;

namespace Keel.Storage.Postgres;

/// <summary>PostgreSQL's words: times as <c>timestamptz</c>, lists as text arrays, rows locked until commit.</summary>
sealed class PostgresDialect : SqlDialect
{
    public static PostgresDialect Instance { get; } = new();

    public override string Engine => "PostgreSQL";

    public override string FeedTable => "keel_feed";

    public override string MigrationsTable => """
        CREATE TABLE IF NOT EXISTS keel_schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL
        );
        """;

    /// <summary>A parameter; times go as UTC, the only offset a <c>timestamptz</c> parameter takes.</summary>
    public override DbParameter Parameter(string name, object? value) => new NpgsqlParameter(name, Value(value));

    protected override object Time(DateTimeOffset time) => time.ToUniversalTime();

    public override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    public override object List(IEnumerable<string> values) => values.ToArray();

    public override IReadOnlyList<string> ReadList(DbDataReader reader, int ordinal) => reader.GetFieldValue<string[]>(ordinal);

    public override string InList(string column, string parameter) => $"{column} = ANY({parameter})";

    public override string Live => "NOT is_deleted";

    public override string Contains(string text, string part) => $"strpos({text}, {part}) > 0";

    // LIKE, which ix_configs_search_trigrams answers.
    public override string KeyContains(string column, string pattern) => $"{column} LIKE {pattern}";

    public override string SubstringPattern(string text) =>
        string.Concat("%", text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal), "%");

    // pg_trgm takes its trigrams from runs of letters and digits alone; of any other text it has none, and its index scan
    // would read every entry. Outside ASCII, what counts as a letter depends on the database's locale.
    public override string? SubstringIndexPattern(string text)
    {
        var run = 0;
        foreach (var c in text)
        {
            run = char.IsAsciiLetterOrDigit(c) ? run + 1 : 0;
            if (run == 3)
            {
                return SubstringPattern(text);
            }
        }

        return null;
    }

    public override string SubstringIndex(string pattern) =>
        $"SELECT id AS matched_id FROM configs WHERE {Live} AND {KeyContains("search_key", pattern)}";

    public override string Greatest(string first, string second) => $"GREATEST({first}, {second})";

    public override string ForUpdate(string? table = null) => table is null ? " FOR UPDATE" : $" FOR UPDATE OF {table}";

    public override string ForUpdateSkipLocked(string table) => $" FOR UPDATE OF {table} SKIP LOCKED";
}
