// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;

namespace Keel.Server.Http;

/// <summary>
/// How many of an answer's items fit in <see cref="LimitsOptions.MaxAnswerBytes"/>, counting the UTF-8 bytes of the values
/// they show. Only what is shown counts: a value hidden from the caller must not move where a page ends, or the page's end
/// would tell the size of a secret.
/// </summary>
static class AnswerBudget
{
    /// <summary>The count of leading <paramref name="items"/> that fit; always at least one, so that every page moves on.</summary>
    public static int Fit<T>(IReadOnlyList<T> items, Func<T, string?> shown, long maxBytes)
    {
        long used = 0;
        for (var i = 0; i < items.Count; i++)
        {
            if (shown(items[i]) is { } value)
            {
                used += Encoding.UTF8.GetByteCount(value);
            }

            if (used > maxBytes && i > 0)
            {
                return i;
            }
        }

        return items.Count;
    }
}
