// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Encryption;

/// <summary>A data key as listings show it: never its bytes.</summary>
/// <param name="Id">The key's id, as envelopes name it.</param>
/// <param name="IsActive">Whether new values are encrypted with it.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="KeyEncryptionKeyId">The id of the key that wraps it.</param>
public sealed record EncryptionKeyInfo(int Id, bool IsActive, DateTimeOffset CreatedAt, string KeyEncryptionKeyId);

/// <summary>What a key rotation did.</summary>
/// <param name="ActiveKeyId">The new active key.</param>
/// <param name="ReencryptedValues">Current values re-encrypted with it.</param>
/// <param name="ReencryptedVersions">History versions re-encrypted with it.</param>
/// <param name="RetiredKeyIds">Keys removed once nothing used them.</param>
/// <param name="UndecryptableCount">Values that failed authentication and were left as they are.</param>
public sealed record KeyRotationResult(
    int ActiveKeyId, long ReencryptedValues, long ReencryptedVersions, IReadOnlyList<int> RetiredKeyIds, long UndecryptableCount);

/// <summary>What a master-key rewrap did.</summary>
/// <param name="MasterKeyId">The master key every data key is now wrapped by.</param>
/// <param name="ReplacedMasterKeyId">The master key that reading it again replaced; <see langword="null"/> when it was unchanged.</param>
/// <param name="RewrappedKeyIds">The data keys wrapped again, in id order.</param>
public sealed record MasterKeyRewrapResult(string MasterKeyId, string? ReplacedMasterKeyId, IReadOnlyList<int> RewrappedKeyIds);
