// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;

namespace Keel.Storage.Relational;

/// <summary>Reads of nullable columns by name.</summary>
static class Rows
{
    public static string? GetStringOrNull(this DbDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }

    public static long? GetInt64OrNull(this DbDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
    }

    public static int? GetInt32OrNull(this DbDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);
    }

    public static DateTimeOffset? GetTimeOrNull(this DbDataReader reader, SqlDialect dialect, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : dialect.ReadTime(reader, ordinal);
    }

    public static DateTimeOffset GetTime(this DbDataReader reader, SqlDialect dialect, string column) =>
        dialect.ReadTime(reader, reader.GetOrdinal(column));

    public static string GetString(this DbDataReader reader, string column) => reader.GetString(reader.GetOrdinal(column));

    public static long GetInt64(this DbDataReader reader, string column) => reader.GetInt64(reader.GetOrdinal(column));

    public static bool GetBoolean(this DbDataReader reader, string column) => reader.GetBoolean(reader.GetOrdinal(column));
}
