// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Encryption;

namespace Keel.Core.Storage;

/// <summary>
/// The data keys that encrypt values, each stored wrapped by the store's <see cref="IKeyEncryptionKey"/>, and their rotation.
/// </summary>
public interface IEncryptionKeyStore
{
    /// <summary>The data keys in use, newest first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<EncryptionKeyInfo>> ListEncryptionKeysAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes a new data key active (with a <c>key.rotate</c> audit record), re-encrypts every encrypted value and history
    /// version with it in short transactions while reads and writes go on, then removes the keys nothing uses any more.
    /// </summary>
    /// <param name="actor">Who rotates.</param>
    /// <param name="cancellationToken">Cancels the rotation between batches; a later rotation finishes what it left.</param>
    /// <exception cref="KeelException">Another rotation is running (<see cref="KeelError.RotationInProgress"/>).</exception>
    Task<KeyRotationResult> RotateEncryptionKeyAsync(Actor actor, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the master key again (<see cref="IKeyEncryptionKey.RefreshAsync"/>) and wraps under it every data key that another
    /// master key wrapped, each in a commit of its own, while reads and writes go on (with a <c>key.rewrap</c> audit record).
    /// </summary>
    /// <param name="actor">Who asks.</param>
    /// <param name="cancellationToken">Cancels the work between keys; a later rewrap, or a start naming both master keys, finishes it.</param>
    /// <exception cref="KeelException">Another rotation is running (<see cref="KeelError.RotationInProgress"/>), or the master key's
    /// source holds no usable key (<see cref="KeelError.MasterKeyUnreadable"/>).</exception>
    Task<MasterKeyRewrapResult> RewrapDataKeysAsync(Actor actor, CancellationToken cancellationToken);
}
