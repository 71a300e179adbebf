// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Http;

namespace Keel.Client.Configuration;

/// <summary>One Keel key as a provider holds it: the value read, and the configuration entries it flattens to.</summary>
/// <param name="Item">The key as Keel answered it.</param>
/// <param name="Entries">Its configuration entries, computed once when it is read.</param>
sealed record ConfigEntry(ConfigItem Item, KeyValuePair<string, string?>[] Entries)
{
    /// <summary>An encrypted value, which the file cache never holds.</summary>
    public bool IsSecret => Item.IsEncrypted;
}
