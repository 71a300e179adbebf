// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;

namespace Keel.Server.Keys;

sealed record KeyRotationResponse(int ActiveKeyId, long ReencryptedValues, long ReencryptedVersions, IReadOnlyList<int> RetiredKeyIds, long Undecryptable)
{
    public static KeyRotationResponse From(KeyRotationResult r) =>
        new(r.ActiveKeyId, r.ReencryptedValues, r.ReencryptedVersions, r.RetiredKeyIds, r.UndecryptableCount);
}

sealed record MasterKeyRewrapResponse(string MasterKeyId, string? ReplacedMasterKeyId, IReadOnlyList<int> RewrappedKeyIds)
{
    public static MasterKeyRewrapResponse From(MasterKeyRewrapResult r) => new(r.MasterKeyId, r.ReplacedMasterKeyId, r.RewrappedKeyIds);
}
