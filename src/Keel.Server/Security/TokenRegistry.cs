// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Keel.Core.Audit;
using Keel.Core.Security;
using Keel.Core.Storage;

namespace Keel.Server.Security;

/// <summary>
/// The tokens that can authenticate, held in memory so that a request costs one SHA-256 and a dictionary probe, never a
/// database read; unknown tokens, however many, never reach the store. Every change goes to the store first, then replaces the
/// snapshot whole. Changes made through another node reach it by <see cref="ITokenStore.TokensChanged"/>, which reloads it.
/// </summary>
sealed class TokenRegistry(ITokenStore store, TimeProvider timeProvider, ILogger<TokenRegistry> logger) : IDisposable
{
    // Keyed by the first 8 bytes of the hash; the whole hash is then compared in constant time.
    volatile FrozenDictionary<ulong, AccessToken[]> _byHashPrefix = FrozenDictionary<ulong, AccessToken[]>.Empty;
    volatile FrozenDictionary<string, AccessToken> _byId = FrozenDictionary<string, AccessToken>.Empty;
    readonly SemaphoreSlim _changes = new(1, 1);

    // One source per token that a long-lived request follows, cancelled when the token stops being active.
    readonly Lock _revocationsLock = new();
    readonly Dictionary<string, (byte[] SecretHash, CancellationTokenSource Source)> _revocations = new(StringComparer.Ordinal);

    int _watching;

    /// <summary>
    /// Loads every token from the store and returns them, revoked ones included; from then on, follows changes that other nodes
    /// make.
    /// </summary>
    public async Task<IReadOnlyList<AccessToken>> LoadAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _watching, 1) == 0)
        {
            store.TokensChanged += OnTokensChanged;
        }

        var tokens = await store.ListTokensAsync(cancellationToken);
        Publish(tokens);
        return tokens;
    }

    void OnTokensChanged() => _ = ReloadAsync();

    async Task ReloadAsync()
    {
        try
        {
            await _changes.WaitAsync();
            try
            {
                Publish(await store.ListTokensAsync(CancellationToken.None));
            }
            finally
            {
                _changes.Release();
            }
        }
        catch (Exception e) when (e is StoreUnavailableException or ObjectDisposedException)
        {
            // The store signals again once it can be read (its listener reconnects); until then the last snapshot stands.
            Log.TokenReloadFailed(logger, e);
        }
    }

    /// <summary>Replaced whenever a token is created, changed or revoked, so that what was proved against it can be reused until then.</summary>
    public object Snapshot => _byHashPrefix;

    public DateTimeOffset Now => timeProvider.GetUtcNow();

    /// <summary>The active token whose secret is <paramref name="secret"/>, if any.</summary>
    public AccessToken? Authenticate(ReadOnlySpan<char> secret)
    {
        if (secret.IsEmpty || secret.Length > TokenSecrets.MaxLength)
        {
            return null;
        }

        Span<byte> utf8 = stackalloc byte[TokenSecrets.MaxLength * 3];
        var length = Encoding.UTF8.GetBytes(secret, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        CryptographicOperations.ZeroMemory(utf8[..length]);

        if (!_byHashPrefix.TryGetValue(BinaryPrimitives.ReadUInt64LittleEndian(hash), out var candidates))
        {
            return null;
        }

        var now = timeProvider.GetUtcNow();
        foreach (var token in candidates)
        {
            if (CryptographicOperations.FixedTimeEquals(token.SecretHash, hash))
            {
                return token.IsActiveAt(now) ? token : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a token that authenticated earlier still would: not revoked, not expired, not replaced. Long-lived streams ask
    /// this as they go, so that a revocation ends them too.
    /// </summary>
    public bool IsStillActive(AccessToken token) =>
        _byId.TryGetValue(token.Id, out var current)
        && CryptographicOperations.FixedTimeEquals(current.SecretHash, token.SecretHash)
        && current.IsActiveAt(timeProvider.GetUtcNow());

    /// <summary>
    /// A cancellation token that is cancelled once <paramref name="token"/> stops being active when the tokens change: it is
    /// revoked or replaced, here or on another node. Streams and long-polls wait on it so that a revocation ends them at once
    /// rather than when they next look; expiry, which no change announces, they watch for themselves.
    /// </summary>
    public CancellationToken RevocationToken(AccessToken token)
    {
        lock (_revocationsLock)
        {
            // Under the lock, either this sees the revocation's snapshot, or the revocation's sweep sees this source.
            if (!IsStillActive(token))
            {
                return new CancellationToken(canceled: true);
            }

            if (!_revocations.TryGetValue(token.Id, out var entry))
            {
                entry = (token.SecretHash, new CancellationTokenSource());
                _revocations.Add(token.Id, entry);
            }

            return entry.Source.Token;
        }
    }

    public Task<IReadOnlyList<AccessToken>> ListAsync(CancellationToken cancellationToken) => store.ListTokensAsync(cancellationToken);

    /// <summary>Stores a token, then lets it authenticate.</summary>
    public async Task SaveAsync(AccessToken token, Actor actor, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            await store.SaveTokenAsync(token, actor, cancellationToken);
            Publish(await store.ListTokensAsync(CancellationToken.None));
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Revokes a token in the store; it stops authenticating before this returns.</summary>
    public async Task<AccessToken?> RevokeAsync(string id, Actor actor, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var revoked = await store.RevokeTokenAsync(id, actor, cancellationToken);
            Publish(await store.ListTokensAsync(CancellationToken.None));
            return revoked;
        }
        finally
        {
            _changes.Release();
        }
    }

    void Publish(IReadOnlyList<AccessToken> tokens)
    {
        var active = tokens.Where(t => t.RevokedAt is null).ToList();
        _byId = active.ToFrozenDictionary(t => t.Id, StringComparer.Ordinal);
        _byHashPrefix = active
            .GroupBy(t => BinaryPrimitives.ReadUInt64LittleEndian(t.SecretHash))
            .ToFrozenDictionary(g => g.Key, g => g.ToArray());
        SweepRevocations();
    }

    /// <summary>Cancels the sources of tokens that the snapshot just published no longer lets authenticate.</summary>
    void SweepRevocations()
    {
        List<CancellationTokenSource>? ended = null;
        var now = timeProvider.GetUtcNow();
        lock (_revocationsLock)
        {
            foreach (var (id, (hash, source)) in _revocations)
            {
                if (!_byId.TryGetValue(id, out var current)
                    || !CryptographicOperations.FixedTimeEquals(current.SecretHash, hash)
                    || !current.IsActiveAt(now))
                {
                    _revocations.Remove(id);
                    (ended ??= []).Add(source);
                }
            }
        }

        // Outside the lock: cancelling runs the waiters' callbacks. A cancelled source holds nothing to release, and stays
        // undisposed so that a request that took its token a moment ago still finds it cancelled.
        foreach (var source in ended ?? [])
        {
            source.Cancel();
        }
    }

    public void Dispose()
    {
        store.TokensChanged -= OnTokensChanged;
        _changes.Dispose();
        lock (_revocationsLock)
        {
            foreach (var (_, source) in _revocations.Values)
            {
                source.Dispose();
            }

            _revocations.Clear();
        }
    }
}
