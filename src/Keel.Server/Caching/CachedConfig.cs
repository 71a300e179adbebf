// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Server.Config;
using Keel.Server.Http;

namespace Keel.Server.Caching;

/// <summary>
/// A cached lookup: a key's GET answer rendered once (or <see langword="null"/> for a key known to be absent), so that a hit
/// writes bytes and serializes nothing. Compared by reference, so that removing one never removes another load's.
/// </summary>
/// <remarks>
/// The value is held once, as UTF-8 inside the answer that shows it (the revealed one, for a secret), and not also as the
/// entry's UTF-16 string: a million 1 KB values cost about 1.6 GB of heap this way, against 3.8 GB with the entry kept
/// beside its answer. <see cref="Entry"/> is read back from that answer for the readers that need an entry. Flags keep
/// their entry: every OFREP evaluation reads one, and there are few of them.
/// </remarks>
sealed class CachedConfig
{
    // What the cache holds per lookup beside the answers' bytes and the key's UTF-16 payload: this object, the key's id, the
    // library's item, queue slot and dictionary node, and the cache's arrays spread over their entries. Measured by the heap's
    // growth per entry (Keel.Benchmarks cache-entry-bytes, docs/benchmarks.md), which this estimate meets within a few percent.
    const int OverheadBytes = 320;

    readonly ConfigId _id;
    readonly ConfigEntry? _entry;
    readonly long _revision;
    readonly ConfigValueType _valueType;
    readonly bool _isEncrypted;
    readonly bool _decryptionFailed;
    volatile bool _servable;

    public CachedConfig(ConfigId id, ConfigEntry? entry)
    {
        _id = id;
        long bytes = OverheadBytes + (2L * (id.ServiceName.Length + id.Environment.Length + id.Key.Length));
        if (entry is not null)
        {
            Version = entry.Version;
            _revision = entry.Revision;
            _valueType = entry.ValueType;
            _isEncrypted = entry.IsEncrypted;
            _decryptionFailed = entry.DecryptionFailed;
            Answer = Render(entry, reveal: false);

            // Only a secret shows differently to a token with secrets:read; one that fails to decrypt is never shown.
            RevealedAnswer = entry.IsEncrypted && !entry.DecryptionFailed ? Render(entry, reveal: true) : Answer;
            bytes += Answer.Length + (ReferenceEquals(RevealedAnswer, Answer) ? 0 : RevealedAnswer.Length);
            if (FlagStorage.IsFlagEnvironment(id.Environment))
            {
                _entry = entry;
                bytes += 2L * (entry.Value.Length + entry.UpdatedBy.Length);
            }
        }

        Bytes = bytes;
    }

    /// <summary>The live entry, or <see langword="null"/> for a key known to be absent.</summary>
    /// <remarks>Read back from the answer on each call, but for a flag: a reader that needs it twice keeps it.</remarks>
    public ConfigEntry? Entry => _entry ?? (RevealedAnswer is { } answer ? ReadEntry(answer) : null);

    /// <summary>Whether the key exists.</summary>
    public bool Exists => Answer is not null;

    /// <summary>The live version; 0 for an absent key.</summary>
    public long Version { get; }

    /// <summary>Whether the stored value failed to decrypt, so that it must not be shown even to a token with <c>secrets:read</c>.</summary>
    public bool DecryptionFailed => _decryptionFailed;

    /// <summary>The estimated memory the lookup holds.</summary>
    public long Bytes { get; }

    /// <summary>The GET answer's UTF-8 JSON, as any token that may read the key sees it; <see langword="null"/> for an absent key.</summary>
    public byte[]? Answer { get; }

    /// <summary>The GET answer as a token with <c>secrets:read</c> sees it.</summary>
    public byte[]? RevealedAnswer { get; }

    public bool IsServable => _servable;

    public void MarkServable() => _servable = true;

    static byte[] Render(ConfigEntry entry, bool reveal) =>
        JsonSerializer.SerializeToUtf8Bytes(ConfigResponse.From(entry, reveal), KeelJson.Context.ConfigResponse);

    // The fields the answer holds beyond those kept here; the answer is this class's own rendering, so it is trusted.
    ConfigEntry ReadEntry(byte[] answer)
    {
        string? value = null;
        string? updatedBy = null;
        DateTimeOffset createdAt = default, updatedAt = default;
        var reader = new Utf8JsonReader(answer);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("config_value"u8))
            {
                reader.Read();
                value = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("created_at"u8))
            {
                reader.Read();
                createdAt = reader.GetDateTimeOffset();
            }
            else if (reader.ValueTextEquals("updated_at"u8))
            {
                reader.Read();
                updatedAt = reader.GetDateTimeOffset();
            }
            else if (reader.ValueTextEquals("updated_by"u8))
            {
                reader.Read();
                updatedBy = reader.GetString();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ConfigEntry
        {
            Id = _id,

            // A secret that failed to decrypt has no value to show, and its entry holds an empty one, as the store gives it.
            Value = value ?? string.Empty,
            ValueType = _valueType,
            Version = Version,
            IsEncrypted = _isEncrypted,
            DecryptionFailed = _decryptionFailed,
            CreatedAt = createdAt,
            UpdatedAt = updatedAt,
            UpdatedBy = updatedBy!,
            Revision = _revision,
        };
    }
}
