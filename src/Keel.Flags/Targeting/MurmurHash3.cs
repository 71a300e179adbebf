// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Numerics;

namespace Keel.Flags.Targeting;

/// <summary>
/// MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain algorithm), which flagd's <c>fractional</c> buckets users
/// with: the same input must give the same hash here as there, or users would land in other variants.
/// </summary>
public static class MurmurHash3
{
    const uint C1 = 0xcc9e2d51;
    const uint C2 = 0x1b873593;

    /// <summary>The 32-bit hash of <paramref name="data"/> with <paramref name="seed"/>.</summary>
    public static uint Hash32(ReadOnlySpan<byte> data, uint seed = 0)
    {
        var hash = seed;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            hash ^= Scramble(BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4)));
            hash = (BitOperations.RotateLeft(hash, 13) * 5) + 0xe6546b64;
        }

        var tail = data[(blocks * 4)..];
        uint k = 0;
        switch (tail.Length)
        {
            case 3:
                k ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                k ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                k ^= tail[0];
                hash ^= Scramble(k);
                break;
            default:
                break;
        }

        hash ^= (uint)data.Length;
        hash ^= hash >> 16;
        hash *= 0x85ebca6b;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35;
        hash ^= hash >> 16;
        return hash;
    }

    static uint Scramble(uint k) => BitOperations.RotateLeft(k * C1, 15) * C2;
}
