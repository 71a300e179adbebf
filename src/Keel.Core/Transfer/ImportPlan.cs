// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Configs;
using Keel.Core.Storage;

namespace Keel.Core.Transfer;

/// <summary>What an import does to a service and environment: the diff it reports and the change set that makes it.</summary>
public sealed class ImportPlan
{
    ImportPlan(List<string> added, List<string> changed, List<string> removed, int unchanged, List<ChangeSetItem> items)
    {
        Added = added;
        Changed = changed;
        Removed = removed;
        Unchanged = unchanged;
        Items = items;
    }

    /// <summary>Keys the file adds, in file order.</summary>
    public IReadOnlyList<string> Added { get; }

    /// <summary>Keys whose value or type the file changes, in file order.</summary>
    public IReadOnlyList<string> Changed { get; }

    /// <summary>Live keys absent from the file that a pruning import deletes, in key order.</summary>
    public IReadOnlyList<string> Removed { get; }

    /// <summary>How many keys the file holds with the value and type they already have.</summary>
    public int Unchanged { get; }

    /// <summary>The changes to commit: sets in file order, then deletes.</summary>
    public IReadOnlyList<ChangeSetItem> Items { get; }

    /// <summary>Compares a file with the live keys it is imported over.</summary>
    /// <param name="file">The file's keys.</param>
    /// <param name="live">The live keys of the service and environment, with plaintext values.</param>
    /// <param name="prune">Whether live keys absent from the file are deleted.</param>
    /// <param name="canReadSecrets">
    /// Whether the importer may read encrypted values. Without it, an encrypted key in the file is always written (reporting it
    /// unchanged would tell the importer its value) and never compared with the file's (the time a comparison takes depends
    /// on the value), and pruning leaves encrypted keys alone, as an export without the permission leaves them out.
    /// </param>
    public static ImportPlan Create(IReadOnlyList<FileEntry> file, IReadOnlyList<ConfigEntry> live, bool prune, bool canReadSecrets)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(live);
        var byKey = live.ToDictionary(e => e.Id.Key, StringComparer.Ordinal);
        List<string> added = [];
        List<string> changed = [];
        List<string> removed = [];
        List<ChangeSetItem> items = [];
        var unchanged = 0;
        foreach (var entry in file)
        {
            if (!byKey.TryGetValue(entry.Key, out var current))
            {
                added.Add(entry.Key);
            }
            else if ((canReadSecrets || !current.IsEncrypted) && IsSame(current, entry))
            {
                unchanged++;
                continue;
            }
            else
            {
                changed.Add(entry.Key);
            }

            items.Add(ChangeSetItem.Set(entry.Key, entry.Value, entry.ValueType));
        }

        if (prune)
        {
            var inFile = file.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var entry in live.OrderBy(e => e.Id.Key, StringComparer.Ordinal))
            {
                if (!inFile.Contains(entry.Id.Key) && (canReadSecrets || !entry.IsEncrypted))
                {
                    removed.Add(entry.Id.Key);
                    items.Add(ChangeSetItem.Delete(entry.Id.Key));
                }
            }
        }

        return new ImportPlan(added, changed, removed, unchanged, items);
    }

    /// <summary>Same type and value; <c>json</c> values compare as JSON, so that formatting alone is no change.</summary>
    static bool IsSame(ConfigEntry current, FileEntry entry)
    {
        if (current.DecryptionFailed || current.ValueType != entry.ValueType)
        {
            return false;
        }

        if (string.Equals(current.Value, entry.Value, StringComparison.Ordinal))
        {
            return true;
        }

        if (entry.ValueType != ConfigValueType.Json)
        {
            return false;
        }

        using var a = JsonDocument.Parse(current.Value);
        using var b = JsonDocument.Parse(entry.Value);
        return JsonElement.DeepEquals(a.RootElement, b.RootElement);
    }
}
