// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;

namespace Keel.Storage.Relational;

/// <summary>
/// The few words in which the backends' SQL differs, and how each stores what .NET hands it. Statements name their parameters
/// <c>@name</c>, which both SQLite and PostgreSQL accept, and bind them by name without the marker.
/// </summary>
abstract class SqlDialect
{
    /// <summary>The database engine's name, for messages.</summary>
    public abstract string Engine { get; }

    /// <summary>A parameter by name, holding <see cref="Value"/> of <paramref name="value"/>.</summary>
    public abstract DbParameter Parameter(string name, object? value);

    /// <summary>A value as the backend stores it: a time in the backend's encoding of times, <see langword="null"/> as SQL NULL.</summary>
    public object Value(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset time => Time(time),
        _ => value,
    };

    /// <summary>A time as the backend stores it.</summary>
    protected abstract object Time(DateTimeOffset time);

    /// <summary>A time column as the backend stores it.</summary>
    public abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    /// <summary>A list of strings as one parameter value, for <see cref="InList"/> and list columns.</summary>
    public abstract object List(IEnumerable<string> values);

    /// <summary>A list column as <see cref="List"/> stored it.</summary>
    public abstract IReadOnlyList<string> ReadList(DbDataReader reader, int ordinal);

    /// <summary>The test that <paramref name="column"/> is one of the list in <paramref name="parameter"/>.</summary>
    public abstract string InList(string column, string parameter);

    /// <summary>The test that a <c>configs</c> row is live, in the words of the partial indexes' own condition, so that the planner reads them.</summary>
    public abstract string Live { get; }

    /// <summary>The test that text <paramref name="text"/> contains text <paramref name="part"/>.</summary>
    public abstract string Contains(string text, string part);

    /// <summary>
    /// The test that search key column <paramref name="column"/> contains the text whose <see cref="SubstringPattern"/>
    /// <paramref name="pattern"/> binds.
    /// </summary>
    public virtual string KeyContains(string column, string pattern) => Contains(column, pattern);

    /// <summary>What <see cref="KeyContains"/> binds for <paramref name="text"/>.</summary>
    public virtual string SubstringPattern(string text) => text;

    /// <summary>
    /// What <see cref="SubstringIndex"/> binds to find the search keys that hold <paramref name="text"/>, or
    /// <see langword="null"/> where the backend's substring index cannot narrow it: it has none, or the text is too short
    /// or of characters the index leaves out.
    /// </summary>
    public virtual string? SubstringIndexPattern(string text) => null;

    /// <summary>
    /// The query of the ids (<c>matched_id</c>) of the <c>configs</c> rows whose search key holds the text whose
    /// <see cref="SubstringIndexPattern"/> <paramref name="pattern"/> binds, read from the backend's substring index.
    /// </summary>
    public virtual string SubstringIndex(string pattern) => throw new NotSupportedException($"{Engine} keeps no substring index.");

    /// <summary>
    /// The join that reads its left side first and looks up each row on its right: SQLite's planner takes
    /// <c>CROSS JOIN</c> as that order, and others plan <c>JOIN</c> on their own.
    /// </summary>
    public virtual string JoinInOrder => "JOIN";

    /// <summary>The larger of two values of a row.</summary>
    public abstract string Greatest(string first, string second);

    /// <summary>The table whose row 1 holds <c>compacted_revision</c>.</summary>
    public abstract string FeedTable { get; }

    /// <summary>
    /// The clause that locks the rows a <c>SELECT</c> reads until commit, of <paramref name="table"/> alone when given; empty
    /// where one writer at a time is the only writer there is.
    /// </summary>
    public virtual string ForUpdate(string? table = null) => string.Empty;

    /// <summary>As <see cref="ForUpdate"/>, skipping rows another transaction holds instead of waiting for them.</summary>
    public virtual string ForUpdateSkipLocked(string table) => string.Empty;

    /// <summary>The <c>CREATE TABLE IF NOT EXISTS keel_schema_migrations</c> statement.</summary>
    public abstract string MigrationsTable { get; }

    /// <summary>Cuts a time to the microseconds both backends keep, so that what a write reports is what a read returns.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);
}
