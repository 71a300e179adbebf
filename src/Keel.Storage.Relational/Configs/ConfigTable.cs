// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Storage;
using Keel.Storage.Relational.Encryption;

namespace Keel.Storage.Relational.Configs;

/// <summary>
/// Configuration and flag values: one row per key ever written in <c>configs</c> (a deleted key keeps its row, so that its
/// versions continue) and one per version in <c>config_versions</c>. Reads are shared; writes go to the backend's engine.
/// </summary>
sealed class ConfigTable(RelationalDatabase db, ValueReveal reveal, IConfigWriter writer) : IConfigStore
{
    public const string EntryColumns =
        "service_name, environment, config_key, version, value, value_type, is_encrypted, created_at, updated_at, updated_by, revision";

    public const string VersionColumns =
        "version, value, value_type, is_encrypted, change_type, change_description, created_at, created_by, revision";

    /// <summary>The revision of the last change to any key of a service and environment, deletes included.</summary>
    public const string LastChangeRevisionSql =
        "SELECT COALESCE(MAX(revision), 0) FROM configs WHERE service_name = @service_name AND environment = @environment;";

    const string ById = "service_name = @service_name AND environment = @environment AND config_key = @config_key";

    /// <summary>The test that a row is configuration, not a flag (see <see cref="FlagStorage"/>), binding what it needs.</summary>
    public static string NotFlags(Sql select, SqlDialect dialect)
    {
        select.With("flag_marker", FlagStorage.Marker.ToString());
        return $"NOT ({dialect.Contains("environment", "@flag_marker")})";
    }

    /// <inheritdoc/>
    public async ValueTask<ConfigEntry?> GetAsync(ConfigId id, CancellationToken cancellationToken)
    {
        var entry = await db.ReadAsync(id, static async (session, id, cancellationToken) =>
        {
            using var select = session.Sql($"SELECT {EntryColumns} FROM configs WHERE {ById} AND NOT is_deleted;");
            return await WithId(select, id).FirstAsync(ReadEntry, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return entry is null ? null : await reveal.RevealAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigEntry>> GetManyAsync(
        string serviceName, string environment, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        // One list parameter instead of one parameter per key keeps the statement text constant and clear of parameter limits.
        var entries = await db.ReadAsync((serviceName, environment, keys), static async (session, state, cancellationToken) =>
        {
            using var select = session.Sql($"""
                SELECT {EntryColumns} FROM configs
                WHERE service_name = @service_name AND environment = @environment AND NOT is_deleted AND {session.Dialect.InList("config_key", "@keys")};
                """);
            return await select.With("service_name", state.serviceName).With("environment", state.environment)
                .With("keys", session.Dialect.List(state.keys.Distinct(StringComparer.Ordinal)))
                .RowsAsync(ReadEntry, cancellationToken, state.keys.Count).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return await reveal.RevealAllAsync(entries, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<ConfigSnapshot> ListAsync(string serviceName, string environment, CancellationToken cancellationToken) =>
        ListAsync(serviceName, environment, afterKey: null, cancellationToken);

    /// <inheritdoc/>
    public Task<ConfigSnapshot> ListAfterAsync(string serviceName, string environment, string afterKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(afterKey);
        return ListAsync(serviceName, environment, afterKey, cancellationToken);
    }

    async Task<ConfigSnapshot> ListAsync(string serviceName, string environment, string? afterKey, CancellationToken cancellationToken)
    {
        // One snapshot: the revisions are exactly the ones the entries are at. Keys are in binary order in both backends
        // (SQLite's default collation, and COLLATE "C" in PostgreSQL), which for UTF-8 is code point order.
        var (revision, lastChange, entries) = await db.ReadAsync((serviceName, environment, afterKey), static async (session, scope, cancellationToken) =>
        {
            var revision = await RelationalDatabase.RevisionAsync(session, cancellationToken).ConfigureAwait(false);
            using var select = session.Sql(LastChangeRevisionSql).With("service_name", scope.serviceName).With("environment", scope.environment);
            var lastChange = await select.Int64Async(cancellationToken).ConfigureAwait(false);
            var after = scope.afterKey is null ? "" : " AND config_key > @after_key";
            if (scope.afterKey is not null)
            {
                select.With("after_key", scope.afterKey);
            }

            var entries = await select
                .Text($"SELECT {EntryColumns} FROM configs WHERE service_name = @service_name AND environment = @environment AND NOT is_deleted{after} ORDER BY config_key;")
                .RowsAsync(ReadEntry, cancellationToken, 16).ConfigureAwait(false);
            return (revision, lastChange, entries);
        }, cancellationToken, snapshot: true).ConfigureAwait(false);
        return new ConfigSnapshot
        {
            Revision = revision,
            LastChangeRevision = lastChange,
            Entries = await reveal.RevealAllAsync(entries, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <inheritdoc/>
    public Task<long> GetLastRevisionAsync(string serviceName, string environment, CancellationToken cancellationToken) =>
        db.ReadAsync((serviceName, environment), static async (session, scope, cancellationToken) =>
        {
            using var select = session.Sql(LastChangeRevisionSql);
            return await select.With("service_name", scope.serviceName).With("environment", scope.environment).Int64Async(cancellationToken)
                .ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigVersion>?> GetHistoryAsync(ConfigId id, int limit, long? beforeVersion, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);

        // One snapshot: a missing row means the key never existed.
        var versions = await db.ReadAsync((id, limit, beforeVersion), static async (session, query, cancellationToken) =>
        {
            using var select = WithId(session.Sql($"SELECT id FROM configs WHERE {ById};"), query.id);
            var row = await select.FirstAsync(static (r, _) => (long?)r.GetInt64(0), cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }

            return await select.With("config_id", row.Value).With("before_version", query.beforeVersion ?? long.MaxValue).With("limit", query.limit)
                .Text($"SELECT {VersionColumns} FROM config_versions WHERE config_id = @config_id AND version < @before_version ORDER BY version DESC LIMIT @limit;")
                .RowsAsync(ReadVersion, cancellationToken, Math.Min(query.limit, 64)).ConfigureAwait(false);
        }, cancellationToken, snapshot: true).ConfigureAwait(false);
        return versions is null ? null : await reveal.RevealAllAsync(id, versions, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        return db.ReadAsync(query, static async (session, query, cancellationToken) =>
        {
            if (query.Text is { Length: > 0 } searched && query.MaxIndexedCandidates > 0
                && session.Dialect.SubstringIndexPattern(ConfigSearch.Fold(searched)) is { } pattern)
            {
                // Few keys hold the text: read them from the index and sort them, rather than walk keys until a page fills.
                // Many do: the walk fills its page soon (at 10,000 of 10,000,000 keys, within some 50,000 keys). One statement
                // reads the index once, for the count that says which of the two it is and, only when the count is within the
                // cap, for the page. It always gives one row at least: the count, beside no page row if the page is empty.
                using var matched = session.Sql(string.Empty);
                var matchedWindow = SearchSql.Window(query, matched, session.Dialect);
                var matchedFilter = SearchSql.Filter(query, matched, session.Dialect);
                var found = await matched.With("pattern", pattern).With("cap", query.MaxIndexedCandidates + 1).With("limit", query.Limit + 1)
                    .Text($"""
                        WITH matched AS MATERIALIZED ({session.Dialect.SubstringIndex("@pattern")} LIMIT @cap),
                        counted AS MATERIALIZED (SELECT count(*) AS candidates FROM matched)
                        SELECT page.*, counted.candidates FROM counted LEFT JOIN (
                            SELECT {SearchSql.Columns} FROM matched {session.Dialect.JoinInOrder} configs ON configs.id = matched.matched_id
                            {matchedWindow} AND {matchedFilter} AND (SELECT candidates FROM counted) < @cap
                            {SearchSql.Order} LIMIT @limit) page ON 1 = 1
                        {SearchSql.Order};
                        """)
                    .RowsAsync(
                        static (r, d) => (Row: r.IsDBNull(r.GetOrdinal("config_key")) ? default((SearchPosition, SearchResult)?) : ReadSearchRow(r, d),
                            Candidates: r.GetInt64("candidates")),
                        cancellationToken,
                        Math.Min(query.Limit + 1, 256))
                    .ConfigureAwait(false);
                var candidates = found[0].Candidates;
                if (candidates <= query.MaxIndexedCandidates)
                {
                    return SearchSql.Page([.. found.Where(f => f.Row is not null).Select(f => f.Row!.Value)], query.Limit, null);
                }
            }

            using var select = session.Sql(string.Empty);
            var window = SearchSql.Window(query, select, session.Dialect);
            var filter = SearchSql.Filter(query, select, session.Dialect);
            var text = query.MaxScannedKeys is { } budget
                ? $"""
                    SELECT {SearchSql.Columns} FROM (SELECT {SearchSql.Columns} FROM configs {window} {SearchSql.Order} LIMIT @budget) walked
                    WHERE {filter} {SearchSql.Order} LIMIT @limit;
                    """
                : $"SELECT {SearchSql.Columns} FROM configs {window} AND {filter} {SearchSql.Order} LIMIT @limit;";
            select.WithOptional("budget", query.MaxScannedKeys);
            var rows = await select.With("limit", query.Limit + 1).Text(text)
                .RowsAsync(ReadSearchRow, cancellationToken, Math.Min(query.Limit + 1, 256)).ConfigureAwait(false);
            if (rows.Count > query.Limit || query.MaxScannedKeys is not { } walked)
            {
                return SearchSql.Page(rows, query.Limit, null);
            }

            // The page is not full: it ends here if the walk ran out of keys, or at the last key its budget reached.
            using var last = session.Sql(string.Empty);
            var lastWindow = SearchSql.Window(query, last, session.Dialect);
            var lastWalked = await last.With("skip", walked - 1)
                .Text($"SELECT search_key, service_name, environment, config_key FROM configs {lastWindow} {SearchSql.Order} LIMIT 1 OFFSET @skip;")
                .FirstAsync(static (r, _) => new SearchPosition(
                    r.GetString("search_key"), r.GetString("service_name"), r.GetString("environment"), r.GetString("config_key")), cancellationToken)
                .ConfigureAwait(false);
            return SearchSql.Page(rows, query.Limit, lastWalked);
        }, cancellationToken);
    }

    static (SearchPosition Position, SearchResult Result) ReadSearchRow(DbDataReader r, SqlDialect d) => (
        new SearchPosition(r.GetString("search_key"), r.GetString("service_name"), r.GetString("environment"), r.GetString("config_key")),
        new SearchResult(
            new ConfigId(r.GetString("service_name"), r.GetString("environment"), r.GetString("config_key")),
            ConfigValueTypes.ParseStored(r.GetString("value_type")),
            r.GetInt64("version"),
            r.GetBoolean("is_encrypted"),
            r.GetTime(d, "updated_at")));

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConfigEntry>> ListServiceAsync(string serviceName, string keyPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        var entries = await db.ReadAsync((serviceName, keyPrefix), static async (session, query, cancellationToken) =>
        {
            using var select = session.Sql(string.Empty);
            var notFlags = NotFlags(select, session.Dialect);
            return await select.With("service_name", query.serviceName).With("prefix", query.keyPrefix).With("upper", ConfigSearch.UpperBound(query.keyPrefix))
                .Text($"""
                    SELECT {EntryColumns} FROM configs
                    WHERE service_name = @service_name AND {session.Dialect.Live} AND config_key >= @prefix AND config_key < @upper AND {notFlags}
                    ORDER BY environment, config_key;
                    """)
                .RowsAsync(ReadEntry, cancellationToken, 64).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return await reveal.RevealAllAsync(entries, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<ConfigChange> SetAsync(SetConfigRequest request, CancellationToken cancellationToken) => writer.SetAsync(request, cancellationToken);

    /// <inheritdoc/>
    public Task<ConfigChange> DeleteAsync(DeleteConfigRequest request, CancellationToken cancellationToken) => writer.DeleteAsync(request, cancellationToken);

    /// <inheritdoc/>
    public Task<ConfigChange> RollbackAsync(RollbackConfigRequest request, CancellationToken cancellationToken) =>
        writer.RollbackAsync(request, cancellationToken);

    /// <inheritdoc/>
    public Task<ChangeSetResult> ApplyChangeSetAsync(ChangeSetRequest request, CancellationToken cancellationToken) =>
        writer.ApplyChangeSetAsync(request, cancellationToken);

    public static Sql WithId(Sql sql, ConfigId id) =>
        sql.With("service_name", id.ServiceName).With("environment", id.Environment).With("config_key", id.Key);

    static ConfigEntry ReadEntry(DbDataReader r, SqlDialect d) => new()
    {
        Id = new ConfigId(r.GetString("service_name"), r.GetString("environment"), r.GetString("config_key")),
        Version = r.GetInt64("version"),
        Value = r.GetString("value"),
        ValueType = ConfigValueTypes.ParseStored(r.GetString("value_type")),
        IsEncrypted = r.GetBoolean("is_encrypted"),
        CreatedAt = r.GetTime(d, "created_at"),
        UpdatedAt = r.GetTime(d, "updated_at"),
        UpdatedBy = r.GetString("updated_by"),
        Revision = r.GetInt64("revision"),
    };

    static ConfigVersion ReadVersion(DbDataReader r, SqlDialect d) => new()
    {
        Version = r.GetInt64("version"),
        Value = r.GetStringOrNull("value"),
        ValueType = r.GetStringOrNull("value_type") is { } type ? ConfigValueTypes.ParseStored(type) : null,
        IsEncrypted = r.GetBoolean("is_encrypted"),
        ChangeType = ChangeTypes.ParseStored(r.GetString("change_type")),
        ChangeDescription = r.GetStringOrNull("change_description"),
        CreatedAt = r.GetTime(d, "created_at"),
        CreatedBy = r.GetString("created_by"),
        Revision = r.GetInt64("revision"),
    };
}
