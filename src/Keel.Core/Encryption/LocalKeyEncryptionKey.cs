// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using System.Text;

namespace Keel.Core.Encryption;

/// <summary>An <see cref="IKeyEncryptionKey"/> held in memory: a 256-bit master key that wraps data keys with AES-256-GCM.</summary>
public sealed class LocalKeyEncryptionKey : IKeyEncryptionKey
{
    /// <summary>The master key's length in bytes.</summary>
    public const int KeySize = 32;

    const int NonceSize = 12;
    const int TagSize = 16;

    static readonly byte[] AssociatedData = Encoding.ASCII.GetBytes("keel.data-key.v1");

    readonly byte[] _key;

    /// <summary>Creates the key from its 32 bytes.</summary>
    /// <param name="masterKey">The master key.</param>
    /// <exception cref="ArgumentException">The key is not 32 bytes long.</exception>
    public LocalKeyEncryptionKey(ReadOnlySpan<byte> masterKey)
    {
        if (masterKey.Length != KeySize)
        {
            throw new ArgumentException($"A master key is {KeySize} bytes; this one is {masterKey.Length}.", nameof(masterKey));
        }

        _key = masterKey.ToArray();

        // A fingerprint that cannot be turned back into the key: a keyed hash of a constant.
        Id = "local:" + Convert.ToHexStringLower(HMACSHA256.HashData(_key, AssociatedData).AsSpan(0, 8));
    }

    /// <inheritdoc/>
    public string Id { get; }

    /// <inheritdoc/>
    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        var output = new byte[NonceSize + TagSize + dataKey.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, dataKey.Span, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), AssociatedData);
        return ValueTask.FromResult(output);
    }

    /// <inheritdoc/>
    public ValueTask<byte[]> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken)
    {
        var wrapped = wrappedKey.Span;
        if (wrapped.Length <= NonceSize + TagSize)
        {
            throw new CryptographicException("The wrapped key is too short.");
        }

        var output = new byte[wrapped.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(wrapped[..NonceSize], wrapped[(NonceSize + TagSize)..], wrapped.Slice(NonceSize, TagSize), output, AssociatedData);
        return ValueTask.FromResult(output);
    }
}
