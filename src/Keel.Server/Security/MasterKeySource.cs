// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using Keel.Core;
using Keel.Core.Encryption;
using Keel.Server.Storage;
using Microsoft.Extensions.Options;

namespace Keel.Server.Security;

/// <summary>
/// The master key as the store's <see cref="IKeyEncryptionKey"/>: from <c>KEEL_MASTER_KEY</c>, else from
/// <c>Keel:Encryption:KeyFile</c>, else from <c>master.key</c> in the data folder, generated there at first start. It is read at
/// first use, which is the store's start, after the data folder is locked. A key file is read again on
/// <see cref="RefreshAsync"/>; the key it replaces joins <c>Keel:Encryption:PreviousMasterKeys</c> as retired, in memory.
/// </summary>
sealed class MasterKeySource(IOptions<EncryptionOptions> options, DataDirectory dataDirectory, ILogger<MasterKeySource> logger)
    : IKeyEncryptionKey
{
    readonly Lock _gate = new();
    LocalKeyEncryptionKey? _key;
    IReadOnlyList<LocalKeyEncryptionKey> _retired = [];

    LocalKeyEncryptionKey Key => Volatile.Read(ref _key) ?? LoadFirst();

    public IKeyEncryptionKey? Retired(string id)
    {
        var current = Key;
        return Volatile.Read(ref _retired).FirstOrDefault(k => k.Id == id && k.Id != current.Id);
    }

    public string Id => Key.Id;

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) =>
        Key.WrapAsync(dataKey, cancellationToken);

    public ValueTask<byte[]> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken) =>
        Key.UnwrapAsync(wrappedKey, cancellationToken);

    /// <summary>
    /// Reads the key file again. A key from <c>KEEL_MASTER_KEY</c> cannot change while the process runs, so it is never
    /// replaced here; a file that is gone or holds no key leaves the key as it was.
    /// </summary>
    public async ValueTask<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!string.IsNullOrEmpty(settings.MasterKey))
        {
            return false;
        }

        _ = Key;
        var path = KeyFilePath(settings);
        byte[]? bytes;
        try
        {
            bytes = Decode(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeelException(KeelError.MasterKeyUnreadable, $"The master key file cannot be read ({e.GetType().Name}); the master key is unchanged.");
        }

        var next = Create(bytes ?? throw new KeelException(
            KeelError.MasterKeyUnreadable, "The master key file must hold base64 of exactly 32 bytes; the master key is unchanged."));
        lock (_gate)
        {
            var current = Key;
            if (next.Id == current.Id)
            {
                return false;
            }

            Volatile.Write(ref _retired, [current, .. _retired]);
            Volatile.Write(ref _key, next);
        }

        Log.MasterKeyFrom(logger, path);
        return true;
    }

    /// <summary>The 32 bytes of a base64 master key, or <see langword="null"/> when it is not one.</summary>
    public static byte[]? Decode(string text)
    {
        var buffer = new byte[48];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) && written == LocalKeyEncryptionKey.KeySize
            ? buffer[..written]
            : null;
    }

    LocalKeyEncryptionKey LoadFirst()
    {
        lock (_gate)
        {
            if (_key is { } loaded)
            {
                return loaded;
            }

            var settings = options.Value;
            _retired = [.. settings.PreviousMasterKeys.Select(k => Create(Decode(k)!))];
            var key = Load(settings);
            Volatile.Write(ref _key, key);
            return key;
        }
    }

    LocalKeyEncryptionKey Load(EncryptionOptions settings)
    {
        if (!string.IsNullOrEmpty(settings.MasterKey))
        {
            Log.MasterKeyFrom(logger, "KEEL_MASTER_KEY");
            return Create(Decode(settings.MasterKey)!);
        }

        var path = KeyFilePath(settings);
        if (!File.Exists(path) && string.IsNullOrEmpty(settings.KeyFile))
        {
            var generated = RandomNumberGenerator.GetBytes(LocalKeyEncryptionKey.KeySize);
            SecretFile.Write(path, Convert.ToBase64String(generated));
            Log.MasterKeyGenerated(logger, path);
            return Create(generated);
        }

        var key = Decode(File.ReadAllText(path))
            ?? throw new InvalidOperationException($"The master key file '{path}' must hold base64 of exactly 32 bytes.");
        Log.MasterKeyFrom(logger, path);
        return Create(key);
    }

    string KeyFilePath(EncryptionOptions settings) =>
        string.IsNullOrEmpty(settings.KeyFile) ? dataDirectory.PathOf(EncryptionOptions.GeneratedKeyFileName) : settings.KeyFile;

    static LocalKeyEncryptionKey Create(byte[] key)
    {
        try
        {
            return new LocalKeyEncryptionKey(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}

/// <summary>Writes a secret to a file only its owner can read.</summary>
static class SecretFile
{
    public static void Write(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
        writer.Write('\n');
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}
