// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;

namespace Keel.Server.Keys;

sealed record EncryptionKeyItem(int Id, bool Active, DateTime CreatedAt)
{
    public static EncryptionKeyItem From(EncryptionKeyInfo key) => new(key.Id, key.IsActive, key.CreatedAt.UtcDateTime);
}

sealed record EncryptionKeysResponse(int ActiveKeyId, IReadOnlyList<EncryptionKeyItem> Keys);
