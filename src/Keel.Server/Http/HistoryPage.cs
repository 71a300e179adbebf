// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Http;

/// <summary>A page of a key's or flag's history, newest first: <c>?limit=</c> versions before <c>?before_version=</c>.</summary>
readonly record struct HistoryPage(int Limit, long? Before)
{
    public const int MaxLimit = 1000;
    public const int DefaultLimit = 10;

    /// <summary>The page from <c>?limit=</c> (1–<see cref="MaxLimit"/>) and <c>?before_version=</c>.</summary>
    public static HistoryPage From(IQueryCollection query)
    {
        var limit = QueryParameters.Integer(query, "limit", DefaultLimit, 1, MaxLimit);
        long? before = query.ContainsKey("before_version") ? QueryParameters.Integer(query, "before_version", 0, 1, long.MaxValue) : null;
        return new((int)limit, before);
    }
}
