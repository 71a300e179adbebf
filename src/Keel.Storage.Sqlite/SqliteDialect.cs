// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Keel.Storage.Relational;
using Microsoft.Data.Sqlite;

namespace Keel.Storage.Sqlite;

/// <summary>SQLite's words: times as microseconds since the Unix epoch in an integer, lists as JSON arrays.</summary>
sealed class SqliteDialect : SqlDialect
{
    public static SqliteDialect Instance { get; } = new();

    public override string Engine => "SQLite";

    public override string FeedTable => "keel_revision";

    public override string MigrationsTable => """
        CREATE TABLE IF NOT EXISTS keel_schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        );
        """;

    // Named with its marker: Microsoft.Data.Sqlite looks a bare name up once, then once more under each of '@', '$' and ':'.
    public override DbParameter Parameter(string name, object? value) => new SqliteParameter(Marked(name), Value(value));

    public override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(ordinal) * 10);

    public override object List(IEnumerable<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var value in values)
            {
                json.WriteStringValue(value);
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public override IReadOnlyList<string> ReadList(DbDataReader reader, int ordinal) =>
        JsonSerializer.Deserialize(reader.GetString(ordinal), SqliteJson.Default.IReadOnlyListString) ?? [];

    public override string InList(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    // SQLite uses a partial index only for the very words of its WHERE clause: NOT is_deleted walks the whole table.
    public override string Live => "is_deleted = 0";

    public override string Contains(string text, string part) => $"instr({text}, {part}) > 0";

    // GLOB rather than LIKE: the index is case-sensitive (search keys are folded already), and so is GLOB. The trigram
    // index needs three characters in a row to narrow anything, and GLOB's wildcard characters would end each run.
    public override string? SubstringIndexPattern(string text) =>
        text.AsSpan().IndexOfAny("*?[") < 0 && text.EnumerateRunes().Take(3).Count() == 3 ? string.Concat("*", text, "*") : null;

    public override string SubstringIndex(string pattern) => $"SELECT rowid AS matched_id FROM configs_search WHERE search_key GLOB {pattern}";

    public override string JoinInOrder => "CROSS JOIN";

    public override string Greatest(string first, string second) => $"MAX({first}, {second})";

    protected override object Time(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    static string Marked(string name) => name.StartsWith('@') ? name : string.Concat("@", name);
}
