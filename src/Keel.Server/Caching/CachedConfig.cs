// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Configs;
using Keel.Server.Config;
using Keel.Server.Http;

namespace Keel.Server.Caching;

/// <summary>
/// A cached lookup: the entry (or <see langword="null"/> for a key known to be absent) and the GET answer rendered once, so
/// that a hit writes bytes and serializes nothing. Compared by reference, so that removing one never removes another load's.
/// </summary>
sealed class CachedConfig
{
    // Object headers, fields and the cache's own bookkeeping, beside the strings' UTF-16 payloads and the rendered answers.
    const int OverheadBytes = 256;

    volatile bool _servable;

    public CachedConfig(ConfigId id, ConfigEntry? entry)
    {
        Entry = entry;
        long bytes = OverheadBytes + (2L * (id.ServiceName.Length + id.Environment.Length + id.Key.Length));
        if (entry is not null)
        {
            bytes += 2L * (entry.Value.Length + entry.UpdatedBy.Length);
            Answer = Render(entry, reveal: false);

            // Only a secret shows differently to a token with secrets:read; one that fails to decrypt is never shown.
            RevealedAnswer = entry.IsEncrypted && !entry.DecryptionFailed ? Render(entry, reveal: true) : Answer;
            ETag = EntityTags.ForVersion(entry.Version);
            bytes += Answer.Length + (ReferenceEquals(RevealedAnswer, Answer) ? 0 : RevealedAnswer.Length) + (2L * ETag.Length);
        }

        Bytes = bytes;
    }

    public ConfigEntry? Entry { get; }

    /// <summary>The estimated memory the lookup holds.</summary>
    public long Bytes { get; }

    /// <summary>The GET answer's UTF-8 JSON, as any token that may read the key sees it; <see langword="null"/> for an absent key.</summary>
    public byte[]? Answer { get; }

    /// <summary>The GET answer as a token with <c>secrets:read</c> sees it.</summary>
    public byte[]? RevealedAnswer { get; }

    /// <summary>The entity tag of the entry's version.</summary>
    public string? ETag { get; }

    public bool IsServable => _servable;

    public void MarkServable() => _servable = true;

    static byte[] Render(ConfigEntry entry, bool reveal) =>
        JsonSerializer.SerializeToUtf8Bytes(ConfigResponse.From(entry, reveal), KeelJson.Context.ConfigResponse);
}
