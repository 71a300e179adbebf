// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;

namespace Keel.Server.Keys;

/// <param name="Id">The data key's id, as encrypted values name it.</param>
/// <param name="Active">Whether new values are encrypted with it.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="WrappedBy">The id of the master key that wraps it (never the key): after a master key rotation, every key shows the new one.</param>
sealed record EncryptionKeyItem(int Id, bool Active, DateTime CreatedAt, string WrappedBy)
{
    public static EncryptionKeyItem From(EncryptionKeyInfo key) => new(key.Id, key.IsActive, key.CreatedAt.UtcDateTime, key.KeyEncryptionKeyId);
}

sealed record EncryptionKeysResponse(int ActiveKeyId, IReadOnlyList<EncryptionKeyItem> Keys);
