// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Encryption;

/// <summary>
/// The key that wraps Keel's data keys at rest: the master key today, a KMS key later. Data keys encrypt values; only their
/// wrapped form is stored.
/// </summary>
public interface IKeyEncryptionKey
{
    /// <summary>A stable, non-secret identifier, stored with every wrapped key so that a wrong master key is caught at start.</summary>
    string Id { get; }

    /// <summary>Wraps a data key.</summary>
    /// <param name="dataKey">The data key's bytes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken);

    /// <summary>Unwraps a data key that <see cref="WrapAsync"/> wrapped.</summary>
    /// <param name="wrappedKey">The wrapped key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The key was not wrapped by this key, or was altered.</exception>
    ValueTask<byte[]> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken);

    /// <summary>
    /// A key that this one replaced, by its <see cref="Id"/>: it still unwraps the data keys it wrapped, until the store has
    /// wrapped them again under this one. <see langword="null"/> when no such key is known.
    /// </summary>
    /// <param name="id">The <see cref="Id"/> stored with a wrapped data key.</param>
    IKeyEncryptionKey? Retired(string id) => null;

    /// <summary>
    /// Reads the key again from where it comes from, so that a key replaced there takes over without a restart. When it has
    /// changed, <see cref="Id"/> names the new key and the one it replaced stays known through <see cref="Retired"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the key is now a different one.</returns>
    /// <exception cref="KeelException">The source no longer holds a usable key (<see cref="KeelError.MasterKeyUnreadable"/>); the
    /// key stays as it was.</exception>
    ValueTask<bool> RefreshAsync(CancellationToken cancellationToken) => ValueTask.FromResult(false);
}
