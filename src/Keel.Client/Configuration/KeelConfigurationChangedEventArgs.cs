// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Configuration;

/// <summary>What one change of a provider's data added, changed and removed, as configuration keys (<c>db:pool:size</c>).</summary>
public sealed class KeelConfigurationChangedEventArgs : EventArgs
{
    internal KeelConfigurationChangedEventArgs(IReadOnlyList<string> added, IReadOnlyList<string> changed, IReadOnlyList<string> removed, long revision)
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
}
