// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client;

/// <summary>
/// What one change of the data added, changed and removed: configuration keys (<c>db:pool:size</c>) for a configuration
/// provider, flag keys for a flag client.
/// </summary>
public sealed class KeelChangedEventArgs : EventArgs
{
    internal KeelChangedEventArgs(IReadOnlyList<string> added, IReadOnlyList<string> changed, IReadOnlyList<string> removed, long revision)
    {
        Added = added;
        Changed = changed;
        Removed = removed;
        Revision = revision;
    }

    /// <summary>Keys that were not there before, in ordinal order.</summary>
    public IReadOnlyList<string> Added { get; }

    /// <summary>Keys whose value changed, in ordinal order.</summary>
    public IReadOnlyList<string> Changed { get; }

    /// <summary>Keys that are gone, in ordinal order.</summary>
    public IReadOnlyList<string> Removed { get; }

    /// <summary>The revision the data is current to after the change.</summary>
    public long Revision { get; }

    /// <summary>What differs between <paramref name="before"/> and <paramref name="after"/>; <see langword="null"/> when nothing does.</summary>
    internal static KeelChangedEventArgs? Between<TValue>(
        IDictionary<string, TValue> before, IDictionary<string, TValue> after, Func<TValue, TValue, bool> same, long revision)
    {
        List<string> added = [], changed = [], removed = [];
        foreach (var (key, value) in after)
        {
            if (!before.TryGetValue(key, out var old))
            {
                added.Add(key);
            }
            else if (!same(old, value))
            {
                changed.Add(key);
            }
        }

        foreach (var key in before.Keys)
        {
            if (!after.ContainsKey(key))
            {
                removed.Add(key);
            }
        }

        if (added.Count + changed.Count + removed.Count == 0)
        {
            return null;
        }

        added.Sort(StringComparer.Ordinal);
        changed.Sort(StringComparer.Ordinal);
        removed.Sort(StringComparer.Ordinal);
        return new KeelChangedEventArgs(added, changed, removed, revision);
    }
}
