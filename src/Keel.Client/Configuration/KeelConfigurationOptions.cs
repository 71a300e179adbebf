// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Configuration;

/// <summary>What a Keel configuration provider reads, from where, and how it keeps it current.</summary>
/// <remarks>
/// Every method returns the same options so that calls chain. <see cref="KeelClientOptions{TOptions}.Connect(Uri, string)"/>
/// and at least one <see cref="Select"/> are required; anything else has a default.
/// </remarks>
public sealed class KeelConfigurationOptions : KeelClientOptions<KeelConfigurationOptions>
{
    readonly List<KeelSelection> _selections = [];
    readonly List<string> _trimmedPrefixes = [];

    internal IReadOnlyList<KeelSelection> Selections => _selections;

    internal IReadOnlyList<string> TrimmedPrefixes => _trimmedPrefixes;

    internal bool SecretsRequired { get; private set; }

    /// <summary>
    /// Reads the keys of <paramref name="serviceName"/> in <paramref name="environment"/>, or only those starting with
    /// <paramref name="keyPrefix"/>. Selections may repeat; where two give the same configuration key, the later one wins.
    /// </summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="keyPrefix">When given, only keys that start with it (ordinal, case-sensitive).</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">A name is empty or not a valid Keel service or environment name.</exception>
    public KeelConfigurationOptions Select(string serviceName, string environment, string? keyPrefix = null)
    {
        _selections.Add(KeelSelection.Create(serviceName, environment, keyPrefix));
        return this;
    }

    /// <summary>
    /// Takes <paramref name="prefix"/> off the start of the Keel keys that have it before they are mapped to configuration
    /// keys: with <c>TrimKeyPrefix("app.")</c>, <c>app.db.url</c> is read as <c>db:url</c>. When several prefixes match, the
    /// longest is trimmed.
    /// </summary>
    /// <param name="prefix">The prefix, in Keel's spelling (with dots).</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The prefix is empty.</exception>
    public KeelConfigurationOptions TrimKeyPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _trimmedPrefixes.Add(prefix);
        return this;
    }

    /// <summary>
    /// Makes an encrypted value that the token may not read (it lacks <c>secrets:read</c>) an error of the load, instead of
    /// a key left out with a warning.
    /// </summary>
    /// <returns>These options.</returns>
    public KeelConfigurationOptions RequireSecrets()
    {
        SecretsRequired = true;
        return this;
    }

    internal override void Validate()
    {
        base.Validate();
        if (_selections.Count == 0)
        {
            throw new ArgumentException("Nothing is selected: call Select(serviceName, environment) at least once.");
        }
    }
}
