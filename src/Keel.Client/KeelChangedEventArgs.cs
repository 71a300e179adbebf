// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

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

    /// <summary>
    /// Calls each of <paramref name="handlers"/> in turn; a handler that throws is logged and the others still run, since
    /// the change is applied already and the caller (a refresh, the start, the watch loop) did nothing wrong.
    /// </summary>
    internal static void Raise(EventHandler<KeelChangedEventArgs>? handlers, object sender, KeelChangedEventArgs change, ILogger logger)
    {
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<KeelChangedEventArgs>>())
        {
            try
            {
                handler(sender, change);
            }
#pragma warning disable CA1031 // Any exception of an application's handler is logged, never thrown into Keel's loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.ChangedHandlerFailed(logger, change.Revision, e);
            }
        }
    }

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
