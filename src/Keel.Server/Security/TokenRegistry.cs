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
    }

    public void Dispose()
    {
        store.TokensChanged -= OnTokensChanged;
        _changes.Dispose();
    }
}
