// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net.Http.Headers;
using Keel.Client.Diagnostics;
using Keel.Client.Http;
using Keel.Client.Watching;

namespace Keel.Client.Configuration;

/// <summary>
/// The keys of one selection as last read, kept current by its <see cref="ChangeWatcher"/>. <see cref="Entries"/> is
/// replaced whole on every change, so that the provider and the file cache read it without a lock; reads and changes of one
/// selection take turns, so that an older answer never replaces a newer one.
/// </summary>
sealed class SelectionState(KeelConfigurationProvider owner, KeelSelection selection, KeelApi api) : IChangeTarget, IDisposable
{
    readonly SemaphoreSlim _turn = new(1, 1);
    readonly HashSet<string> _warnedSecrets = new(StringComparer.Ordinal);

    public KeelSelection Selection { get; } = selection;

    public IReadOnlyDictionary<string, ConfigEntry> Entries { get; private set; } = new Dictionary<string, ConfigEntry>(StringComparer.Ordinal);

    /// <summary>Every change up to this revision is applied.</summary>
    public long Revision { get; private set; }

    public EntityTagHeaderValue? ETag { get; private set; }

    /// <summary>Whether <see cref="Entries"/> came from Keel, not from the file cache.</summary>
    public bool Loaded { get; private set; }

    public ChangeWatcher? Watcher { get; set; }

    public void Restore(CachedSelection cached)
    {
        var entries = new Dictionary<string, ConfigEntry>(StringComparer.Ordinal);
        foreach (var config in cached.Configs)
        {
            if (Selection.Covers(config.ConfigKey))
            {
                entries[config.ConfigKey] = owner.Entry(Selection, new ConfigItem(config.ConfigKey, config.ConfigValue, config.ValueType, config.Version, IsEncrypted: false));
            }
        }

        Entries = entries;
        Revision = cached.Revision;
    }

    public async Task<long> ReloadAsync(bool conditional, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var read = await api.GetSnapshotAsync(Selection.ServiceName, Selection.Environment, conditional && Loaded ? ETag : null, cancellationToken).ConfigureAwait(false);
            if (read is not { } snapshot)
            {
                return Revision;
            }

            var entries = new Dictionary<string, ConfigEntry>(StringComparer.Ordinal);
            var omitted = new List<string>();
            foreach (var item in snapshot.Answer.Configs)
            {
                if (Selection.Covers(item.ConfigKey))
                {
                    Add(entries, item, omitted);
                }
            }

            ReportOmitted(omitted);
            Entries = entries;
            ETag = snapshot.ETag;
            Revision = Math.Max(Revision, snapshot.Answer.Revision);
            Loaded = true;
            owner.Publish(Revision);
            return Revision;
        }
        finally
        {
            _turn.Release();
        }
    }

    public async Task ApplyAsync(IReadOnlyList<ChangeItem> changes, long revision, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The last change of each key decides: a delete needs no read, anything else reads the current value.
            var last = new Dictionary<string, ChangeItem>(StringComparer.Ordinal);
            foreach (var change in changes)
            {
                if (change.ServiceName == Selection.ServiceName && change.Environment == Selection.Environment && Selection.Covers(change.ConfigKey))
                {
                    last[change.ConfigKey] = change;
                }
            }

            var entries = new Dictionary<string, ConfigEntry>((IDictionary<string, ConfigEntry>)Entries, StringComparer.Ordinal);
            var read = new List<string>();
            foreach (var (key, change) in last)
            {
                if (change.ChangeType == "delete")
                {
                    if (entries.TryGetValue(key, out var held) && held.Item.Version <= change.Version)
                    {
                        entries.Remove(key);
                    }
                }
                else if (!entries.TryGetValue(key, out var held) || held.Item.Version < change.Version)
                {
                    read.Add(key);
                }
            }

            var omitted = new List<string>();
            foreach (var chunk in read.Chunk(KeelApi.MaxBatchKeys))
            {
                var answer = await api.GetManyAsync(Selection.ServiceName, Selection.Environment, chunk, cancellationToken).ConfigureAwait(false);
                foreach (var item in answer.Configs)
                {
                    entries.Remove(item.ConfigKey);
                    Add(entries, item, omitted);
                }

                foreach (var missing in answer.Missing)
                {
                    entries.Remove(missing);
                }
            }

            ReportOmitted(omitted);
            Entries = entries;
            Revision = Math.Max(Revision, revision);
            ClientMetrics.ChangesApplied.Add(last.Count, new KeyValuePair<string, object?>("kind", "config"));
            owner.Publish(Revision);
        }
        finally
        {
            _turn.Release();
        }
    }

    public void Succeeded(KeelTransport transport, long revision)
    {
        Revision = Math.Max(Revision, revision);
        owner.Succeeded(transport);
    }

    public void Failed(Exception error) => owner.Failed(error);

    public void Switched(KeelTransport transport) => owner.Switched(transport);

    public void Dispose() => _turn.Dispose();

    void Add(Dictionary<string, ConfigEntry> entries, ConfigItem item, List<string> omitted)
    {
        if (item.ConfigValue is null)
        {
            // An encrypted value the token may not read (or one that failed to decrypt on the server).
            omitted.Add(item.ConfigKey);
            return;
        }

        entries[item.ConfigKey] = owner.Entry(Selection, item);
    }

    void ReportOmitted(List<string> omitted)
    {
        if (omitted.Count == 0)
        {
            return;
        }

        if (owner.SecretsRequired)
        {
            throw new KeelConfigurationException(
                $"Keel configuration {Selection}: {omitted.Count} encrypted key(s), among them '{omitted[0]}', cannot be read: the token lacks secrets:read.");
        }

        var fresh = omitted.Where(_warnedSecrets.Add).ToList();
        if (fresh.Count > 0)
        {
            Log.SecretsOmitted(owner.Logger, Selection.ToString(), fresh.Count, fresh[0]);
        }
    }
}
