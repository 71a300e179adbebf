// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Keel.Server.Watch;

/// <summary>Which cap turned a watcher away.</summary>
enum WatchCap
{
    /// <summary><see cref="WatchOptions.MaxWatchers"/>: the server is full.</summary>
    Server,

    /// <summary><see cref="WatchOptions.MaxWatchersPerToken"/>: the token holds its share.</summary>
    Token,

    /// <summary><see cref="WatchOptions.MaxWatchersPerClientAddress"/>: the client address holds its share.</summary>
    ClientAddress,
}

/// <summary>
/// Admits streams and long-polls within three caps: the server's, each token's and each client address's, so that one
/// token, or one host with many tokens, cannot take the slots that every other client needs. A slot is held from admission
/// until its <see cref="WatchLease"/> is disposed, which the endpoints do however the request ends.
/// </summary>
/// <remarks>
/// A token or an address has a counter only while it holds a slot, so the counters never outnumber the open watchers. A
/// counter moves only by compare-and-swap, so no burst admits past a cap. The last release retires its counter (-1) before
/// removing it from the dictionary, and a retired counter admits no one: an admission that meets one removes it (if still
/// there) and starts over on a fresh counter, so no slot is ever counted on a counter that has left the dictionary.
/// </remarks>
sealed class WatchAdmission(WatchMetrics metrics, IOptions<WatchOptions> options, ILogger<WatchAdmission> logger)
{
    readonly Slots<string> _byToken = new(options.Value.MaxWatchersPerToken, StringComparer.Ordinal);
    readonly Slots<IPAddress> _byAddress = new(options.Value.MaxWatchersPerClientAddress, EqualityComparer<IPAddress>.Default);

    /// <summary>The tokens and the addresses that hold a slot now.</summary>
    public (int Tokens, int Addresses) Counted => (_byToken.Counted, _byAddress.Counted);

    /// <summary>
    /// Takes a slot for a watcher of the token from the address; <see langword="null"/> when a cap is full, and then
    /// <paramref name="refusal"/> says which.
    /// </summary>
    public WatchLease? TryEnter(string kind, string tokenId, IPAddress address, out WatchCap refusal)
    {
        if (!_byToken.TryTake(tokenId, out var tokenSlot))
        {
            refusal = WatchCap.Token;
            return Refuse(kind, tokenId, refusal);
        }

        if (!_byAddress.TryTake(address, out var addressSlot))
        {
            _byToken.Release(tokenId, tokenSlot);
            refusal = WatchCap.ClientAddress;
            return Refuse(kind, tokenId, refusal);
        }

        if (!metrics.TryEnter(kind))
        {
            _byAddress.Release(address, addressSlot);
            _byToken.Release(tokenId, tokenSlot);
            refusal = WatchCap.Server;
            return Refuse(kind, tokenId, refusal);
        }

        refusal = default;
        return new WatchLease(this, kind, tokenId, tokenSlot, address, addressSlot);
    }

    void Exit(string kind, string tokenId, Slots<string>.Counter? tokenSlot, IPAddress address, Slots<IPAddress>.Counter? addressSlot)
    {
        metrics.Exit(kind);
        _byAddress.Release(address, addressSlot);
        _byToken.Release(tokenId, tokenSlot);
    }

    WatchLease? Refuse(string kind, string tokenId, WatchCap cap)
    {
        var name = cap switch
        {
            WatchCap.Token => "token",
            WatchCap.ClientAddress => "client_address",
            _ => "server",
        };
        metrics.Refused(kind, name);
        Log.WatcherRefused(logger, tokenId, name);
        return null;
    }

    /// <summary>One watcher's slots; disposing it gives them back, once.</summary>
    public sealed class WatchLease(
        WatchAdmission admission,
        string kind,
        string tokenId,
        Slots<string>.Counter? tokenSlot,
        IPAddress address,
        Slots<IPAddress>.Counter? addressSlot) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                admission.Exit(kind, tokenId, tokenSlot, address, addressSlot);
            }
        }
    }
}

/// <summary>Slots counted per key, at most <c>max</c> per key; 0 counts nothing and admits everyone.</summary>
sealed class Slots<TKey>(int max, IEqualityComparer<TKey> comparer)
    where TKey : notnull
{
    const int Retired = -1;

    readonly ConcurrentDictionary<TKey, Counter> _counters = new(comparer);

    /// <summary>The keys that hold a slot now.</summary>
    public int Counted => _counters.Count;

    /// <summary>
    /// Takes a slot of <paramref name="key"/>; <paramref name="slot"/> is what to give back (<see langword="null"/> when
    /// nothing is counted).
    /// </summary>
    public bool TryTake(TKey key, out Counter? slot)
    {
        slot = null;
        if (max == 0)
        {
            return true;
        }

        while (true)
        {
            var counter = _counters.GetOrAdd(key, static _ => new Counter());
            var held = Volatile.Read(ref counter.Held);
            if (held == Retired)
            {
                // Its last holder is removing it; help, then count on the counter that replaces it.
                _counters.TryRemove(new KeyValuePair<TKey, Counter>(key, counter));
                continue;
            }

            if (held >= max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter.Held, held + 1, held) == held)
            {
                slot = counter;
                return true;
            }
        }
    }

    /// <summary>Gives back a slot <see cref="TryTake"/> took.</summary>
    public void Release(TKey key, Counter? slot)
    {
        if (slot is null)
        {
            return;
        }

        // The counter leaves only if no admission slipped in since it reached zero; one that did keeps it alive.
        if (Interlocked.Decrement(ref slot.Held) == 0 && Interlocked.CompareExchange(ref slot.Held, Retired, 0) == 0)
        {
            _counters.TryRemove(new KeyValuePair<TKey, Counter>(key, slot));
        }
    }

    public sealed class Counter
    {
        internal int Held;
    }
}
