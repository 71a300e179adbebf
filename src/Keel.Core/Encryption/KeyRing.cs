// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Keel.Core.Configs;

namespace Keel.Core.Encryption;

/// <summary>How an encrypted value failed to decrypt.</summary>
public enum DecryptionStatus
{
    /// <summary>The value decrypted.</summary>
    Ok,

    /// <summary>The envelope names a data key the ring does not hold.</summary>
    UnknownKey,

    /// <summary>The envelope is malformed, or authentication failed: the ciphertext, its key id or its row was altered.</summary>
    Tampered,
}

/// <summary>
/// The data keys in use, one of them active, and the envelope format of encrypted values. Immutable: a change makes a new ring.
/// </summary>
/// <remarks>
/// <para>
/// An encrypted value is stored as base64 of <c>format (1 byte) | key id (4 bytes, big-endian) | nonce (12) | tag (16) |
/// ciphertext</c>, AES-256-GCM with a random 96-bit nonce per value. The associated data is the value's service, environment,
/// key and version, so a ciphertext copied to another row or version fails authentication instead of decrypting.
/// </para>
/// <para>
/// Random 96-bit nonces stay within NIST SP 800-38D's bound (2^32 encryptions per key) for any realistic number of writes
/// between rotations.
/// </para>
/// </remarks>
public sealed class KeyRing
{
    /// <summary>A data key's length in bytes (AES-256).</summary>
    public const int DataKeySize = 32;

    const byte FormatVersion = 1;
    const int HeaderSize = 1 + 4;
    const int NonceSize = 12;
    const int TagSize = 16;

    readonly FrozenDictionary<int, byte[]> _keys;

    /// <summary>Creates a ring of <paramref name="keys"/> that encrypts with <paramref name="activeKeyId"/>.</summary>
    /// <param name="keys">The data keys by id.</param>
    /// <param name="activeKeyId">The key new values are encrypted with.</param>
    /// <exception cref="ArgumentException">A key is not 32 bytes, or the active key is not among them.</exception>
    public KeyRing(IReadOnlyDictionary<int, byte[]> keys, int activeKeyId)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (id, key) in keys)
        {
            if (key.Length != DataKeySize)
            {
                throw new ArgumentException($"Data key {id} is {key.Length} bytes; a data key is {DataKeySize}.", nameof(keys));
            }
        }

        if (!keys.ContainsKey(activeKeyId))
        {
            throw new ArgumentException($"The active key {activeKeyId} is not in the ring.", nameof(activeKeyId));
        }

        _keys = keys.ToFrozenDictionary();
        ActiveKeyId = activeKeyId;
    }

    /// <summary>The id of the key new values are encrypted with.</summary>
    public int ActiveKeyId { get; }

    /// <summary>The ids of every key in the ring.</summary>
    public IEnumerable<int> KeyIds => _keys.Keys;

    /// <summary>
    /// Unwraps a store's data keys into a ring, each with the master key that wrapped it: this server's, or one it names as
    /// retired. A key wrapped by a master key the server does not know fails with a message naming <paramref name="store"/> and
    /// both master keys.
    /// </summary>
    /// <param name="stored">Each data key's id, wrapped bytes, the id of the master key that wrapped it, and whether it is active.</param>
    /// <param name="keyEncryptionKey">This server's master key.</param>
    /// <param name="store">The store, as messages name it.</param>
    /// <param name="cancellationToken">Cancels the unwrapping.</param>
    /// <exception cref="InvalidOperationException">A data key was wrapped by an unknown master key, or fails to unwrap.</exception>
    public static async Task<KeyRing> UnwrapAsync(
        IReadOnlyList<(int Id, byte[] Wrapped, string KekId, bool IsActive)> stored,
        IKeyEncryptionKey keyEncryptionKey,
        string store,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(keyEncryptionKey);
        var keys = new Dictionary<int, byte[]>();
        foreach (var (id, wrapped, kekId, _) in stored)
        {
            try
            {
                var unwrapping = string.Equals(kekId, keyEncryptionKey.Id, StringComparison.Ordinal)
                    ? keyEncryptionKey
                    : keyEncryptionKey.Retired(kekId) ?? throw new CryptographicException("The key identifiers differ.");
                keys[id] = await unwrapping.UnwrapAsync(wrapped, cancellationToken).ConfigureAwait(false);
            }
            catch (CryptographicException e)
            {
                throw new InvalidOperationException(
                    $"Data key {id} in {store} was wrapped by master key {kekId}, and this server's master key is "
                    + $"{keyEncryptionKey.Id}. Start Keel with the master key this database was created with, or name it in "
                    + "Keel:Encryption:PreviousMasterKeys to move to the new one.",
                    e);
            }
        }

        return new KeyRing(keys, stored.Single(r => r.IsActive).Id);
    }

    /// <summary>The bytes of data key <paramref name="id"/>, which the caller must not change.</summary>
    public ReadOnlyMemory<byte> KeyBytes(int id) => _keys[id];

    /// <summary>A new random data key.</summary>
    public static byte[] NewDataKey() => RandomNumberGenerator.GetBytes(DataKeySize);

    /// <summary>This ring with <paramref name="key"/> added as <paramref name="id"/> and made active.</summary>
    public KeyRing WithActive(int id, byte[] key) => new(new Dictionary<int, byte[]>(_keys) { [id] = key }, id);

    /// <summary>This ring, with the keys of <paramref name="other"/> that it lacks added; the active key stays.</summary>
    public KeyRing Including(KeyRing other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var keys = new Dictionary<int, byte[]>(_keys);
        foreach (var (id, key) in other._keys)
        {
            keys.TryAdd(id, key);
        }

        return new KeyRing(keys, ActiveKeyId);
    }

    /// <summary>This ring without the keys <paramref name="ids"/>; the active key stays.</summary>
    public KeyRing Without(IEnumerable<int> ids)
    {
        var keys = new Dictionary<int, byte[]>(_keys);
        foreach (var id in ids)
        {
            if (id != ActiveKeyId)
            {
                keys.Remove(id);
            }
        }

        return new KeyRing(keys, ActiveKeyId);
    }

    /// <summary>Encrypts a value of <paramref name="id"/> at <paramref name="version"/> with the active key.</summary>
    /// <returns>The envelope, as base64.</returns>
    public string Encrypt(ConfigId id, long version, string plaintext) => Encrypt(ConfigContext(id, version), plaintext);

    /// <summary>
    /// Encrypts a secret Keel keeps for itself (such as a webhook's signing secret), bound to <paramref name="purpose"/> and
    /// <paramref name="owner"/> so that it decrypts nowhere else.
    /// </summary>
    /// <returns>The envelope, as base64.</returns>
    public string EncryptSecret(string purpose, string owner, string plaintext) => Encrypt(SecretContext(purpose, owner), plaintext);

    string Encrypt(string context, string plaintext)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var plain = Encoding.UTF8.GetBytes(plaintext);
        try
        {
            return Seal(ActiveKeyId, _keys[ActiveKeyId], context, plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>Decrypts an envelope made by <see cref="EncryptSecret"/>.</summary>
    public DecryptionStatus TryDecryptSecret(string purpose, string owner, string envelope, out string? plaintext) =>
        TryDecrypt(SecretContext(purpose, owner), envelope, out plaintext);

    /// <summary>Re-encrypts an envelope made by <see cref="EncryptSecret"/> with the active key, for rotation.</summary>
    /// <returns>The new envelope; <see langword="null"/> when the envelope does not decrypt.</returns>
    public string? ReencryptSecret(string purpose, string owner, string envelope) =>
        Reencrypt(SecretContext(purpose, owner), envelope);

    /// <summary>Decrypts an envelope of <paramref name="id"/> at <paramref name="version"/>.</summary>
    public DecryptionStatus TryDecrypt(ConfigId id, long version, string envelope, out string? plaintext) =>
        TryDecrypt(ConfigContext(id, version), envelope, out plaintext);

    DecryptionStatus TryDecrypt(string context, string envelope, out string? plaintext)
    {
        plaintext = null;
        var status = TryOpen(context, envelope, out var plain);
        if (status == DecryptionStatus.Ok)
        {
            try
            {
                plaintext = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(plain!);
            }
            catch (DecoderFallbackException)
            {
                return DecryptionStatus.Tampered;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plain);
            }
        }

        return status;
    }

    /// <summary>
    /// Re-encrypts an envelope with the active key, for rotation; the value's row and version stay what they were.
    /// </summary>
    /// <returns>The new envelope; <see langword="null"/> when the envelope does not decrypt.</returns>
    public string? Reencrypt(ConfigId id, long version, string envelope) => Reencrypt(ConfigContext(id, version), envelope);

    string? Reencrypt(string context, string envelope)
    {
        if (TryOpen(context, envelope, out var plain) != DecryptionStatus.Ok)
        {
            return null;
        }

        try
        {
            return Seal(ActiveKeyId, _keys[ActiveKeyId], context, plain!);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>The data key id an envelope names, or <see langword="null"/> when it is no envelope.</summary>
    public static int? ReadKeyId(string envelope)
    {
        Span<byte> header = stackalloc byte[8];
        if (!Convert.TryFromBase64Chars(envelope.AsSpan(0, Math.Min(envelope.Length, 8)), header, out var written)
            || written < HeaderSize || header[0] != FormatVersion)
        {
            return null;
        }

        return BinaryPrimitives.ReadInt32BigEndian(header[1..]);
    }

    DecryptionStatus TryOpen(string context, string envelope, out byte[]? plain)
    {
        plain = null;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(envelope);
        }
        catch (FormatException)
        {
            return DecryptionStatus.Tampered;
        }

        if (bytes.Length < HeaderSize + NonceSize + TagSize || bytes[0] != FormatVersion)
        {
            return DecryptionStatus.Tampered;
        }

        var keyId = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1));
        if (!_keys.TryGetValue(keyId, out var key))
        {
            return DecryptionStatus.UnknownKey;
        }

        var body = bytes.AsSpan(HeaderSize);
        var output = new byte[body.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(body[..NonceSize], body[(NonceSize + TagSize)..], body.Slice(NonceSize, TagSize), output, AssociatedData(context, bytes.AsSpan(0, HeaderSize)));
        }
        catch (AuthenticationTagMismatchException)
        {
            return DecryptionStatus.Tampered;
        }

        plain = output;
        return DecryptionStatus.Ok;
    }

    static string Seal(int keyId, byte[] key, string context, ReadOnlySpan<byte> plain)
    {
        var bytes = new byte[HeaderSize + NonceSize + TagSize + plain.Length];
        bytes[0] = FormatVersion;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), keyId);
        var body = bytes.AsSpan(HeaderSize);
        RandomNumberGenerator.Fill(body[..NonceSize]);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(body[..NonceSize], plain, body[(NonceSize + TagSize)..], body.Slice(NonceSize, TagSize), AssociatedData(context, bytes.AsSpan(0, HeaderSize)));
        return Convert.ToBase64String(bytes);
    }

    // Names cannot hold NUL, so NUL-separated fields cannot be confused with one another, and the two contexts' first fields
    // differ, so a value's envelope never opens as a secret or the reverse.
    static string ConfigContext(ConfigId id, long version) =>
        string.Create(CultureInfo.InvariantCulture, $"keel.config.v1\0{id.ServiceName}\0{id.Environment}\0{id.Key}\0{version}\0");

    static string SecretContext(string purpose, string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return $"keel.secret.v1\0{purpose}\0{owner}\0";
    }

    // The header is bound too, so an envelope's key id cannot be swapped.
    static byte[] AssociatedData(string context, ReadOnlySpan<byte> header)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(context) + header.Length];
        var written = Encoding.UTF8.GetBytes(context, bytes);
        header.CopyTo(bytes.AsSpan(written));
        return bytes;
    }
}
