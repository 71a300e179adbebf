// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using Keel.Core.Encryption;
using Keel.Server.Storage;
using Microsoft.Extensions.Options;

namespace Keel.Server.Security;

/// <summary>
/// The master key as the store's <see cref="IKeyEncryptionKey"/>: from <c>KEEL_MASTER_KEY</c>, else from
/// <c>Keel:Encryption:KeyFile</c>, else from <c>master.key</c> in the data folder, generated there at first start. It is read at
/// first use, which is the store's start, after the data folder is locked.
/// </summary>
sealed class MasterKeySource : IKeyEncryptionKey
{
    readonly Lazy<LocalKeyEncryptionKey> _key;
    readonly Lazy<IReadOnlyList<LocalKeyEncryptionKey>> _previous;

    public MasterKeySource(IOptions<EncryptionOptions> options, DataDirectory dataDirectory, ILogger<MasterKeySource> logger)
    {
        _key = new Lazy<LocalKeyEncryptionKey>(() => Load(options.Value, dataDirectory, logger));
        _previous = new Lazy<IReadOnlyList<LocalKeyEncryptionKey>>(() => [.. options.Value.PreviousMasterKeys.Select(k => Create(Decode(k)!))]);
    }

    public IKeyEncryptionKey? Retired(string id) => _previous.Value.FirstOrDefault(k => k.Id == id && k.Id != Id);

    public string Id => _key.Value.Id;

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) =>
        _key.Value.WrapAsync(dataKey, cancellationToken);

    public ValueTask<byte[]> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken) =>
        _key.Value.UnwrapAsync(wrappedKey, cancellationToken);

    /// <summary>The 32 bytes of a base64 master key, or <see langword="null"/> when it is not one.</summary>
    public static byte[]? Decode(string text)
    {
        var buffer = new byte[48];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) && written == LocalKeyEncryptionKey.KeySize
            ? buffer[..written]
            : null;
    }

    static LocalKeyEncryptionKey Load(EncryptionOptions options, DataDirectory dataDirectory, ILogger logger)
    {
        if (!string.IsNullOrEmpty(options.MasterKey))
        {
            Log.MasterKeyFrom(logger, "KEEL_MASTER_KEY");
            return Create(Decode(options.MasterKey)!);
        }

        var path = string.IsNullOrEmpty(options.KeyFile) ? dataDirectory.PathOf(EncryptionOptions.GeneratedKeyFileName) : options.KeyFile;
        if (!File.Exists(path) && string.IsNullOrEmpty(options.KeyFile))
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
