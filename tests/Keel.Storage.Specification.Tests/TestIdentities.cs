// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Audit;
using Keel.Core.Encryption;

namespace Keel.Storage.Specification.Tests;

/// <summary>The actor and master key the specification's stores work with.</summary>
public static class TestIdentities
{
    /// <summary>The actor of every change the specification makes.</summary>
    public static Actor Tester { get; } = new("tok-tester", "tester", "127.0.0.1", "req-tester");

    /// <summary>A fixed master key, so that a reopened store reads what an earlier one wrote.</summary>
    public static IKeyEncryptionKey MasterKey { get; } = new LocalKeyEncryptionKey([.. Enumerable.Range(1, LocalKeyEncryptionKey.KeySize).Select(i => (byte)i)]);

    /// <summary>Another fixed master key, to rotate to.</summary>
    public static IKeyEncryptionKey NextMasterKey { get; } = new LocalKeyEncryptionKey([.. Enumerable.Range(101, LocalKeyEncryptionKey.KeySize).Select(i => (byte)i)]);
}

/// <summary>A master key that replaced others, as a server configured with previous master keys holds it.</summary>
public sealed class RotatedMasterKey(IKeyEncryptionKey current, params IKeyEncryptionKey[] retired) : IKeyEncryptionKey
{
    public string Id => current.Id;

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) => current.WrapAsync(dataKey, cancellationToken);

    public ValueTask<byte[]> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken) =>
        current.UnwrapAsync(wrappedKey, cancellationToken);

    public IKeyEncryptionKey? Retired(string id) => retired.FirstOrDefault(k => k.Id == id);
}

/// <summary>
/// A master key replaced at its source while the store runs, as a key file rewritten under a running server: the store sees
/// the new key once it reads it again.
/// </summary>
public sealed class ReplaceableMasterKey(IKeyEncryptionKey initial) : IKeyEncryptionKey
{
    readonly List<IKeyEncryptionKey> _retired = [];
    IKeyEncryptionKey _current = initial;
    IKeyEncryptionKey _atSource = initial;

    public string Id => _current.Id;

    /// <summary>Puts <paramref name="next"/> where the key is read from; the store still uses the old one until it reads again.</summary>
    public void ReplaceAtSource(IKeyEncryptionKey next) => _atSource = next;

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) => _current.WrapAsync(dataKey, cancellationToken);

    public ValueTask<byte[]> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken) =>
        _current.UnwrapAsync(wrappedKey, cancellationToken);

    public IKeyEncryptionKey? Retired(string id)
    {
        lock (_retired)
        {
            return _retired.FirstOrDefault(k => k.Id == id && k.Id != Id);
        }
    }

    public ValueTask<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        lock (_retired)
        {
            if (_atSource.Id == _current.Id)
            {
                return ValueTask.FromResult(false);
            }

            _retired.Add(_current);
            _current = _atSource;
            return ValueTask.FromResult(true);
        }
    }
}
