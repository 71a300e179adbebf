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

    /// <summary>
    /// The leading <paramref name="items"/> that fit in <paramref name="maxBytes"/> of shown values, and the
    /// <c>before_version</c> of the next page: <see langword="null"/> once the oldest version is shown.
    /// </summary>
    public (IReadOnlyList<T> Items, long? NextBeforeVersion) Bound<T>(
        IReadOnlyList<T> items, Func<T, long> version, Func<T, string?> shown, long maxBytes)
    {
        var count = AnswerBudget.Fit(items, shown, maxBytes);
        var page = count == items.Count ? items : items.Take(count).ToList();
        long? next = page.Count > 0 && (count < items.Count || items.Count == Limit) && version(page[^1]) > 1 ? version(page[^1]) : null;
        return (page, next);
    }
}
