// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Keel.Core.Security;

/// <summary>Makes token secrets and the hashes the store keeps of them.</summary>
public static class TokenSecrets
{
    /// <summary>What every generated secret starts with, so that secret scanners and people recognize one.</summary>
    public const string Prefix = "keel_";

    /// <summary>The fewest characters a token supplied by an operator may have.</summary>
    public const int MinSuppliedLength = 32;

    /// <summary>The most characters of a bearer token worth hashing; anything longer is no token of ours.</summary>
    public const int MaxLength = 512;

    /// <summary>A new secret of 256 random bits and its hash.</summary>
    public static (string Secret, byte[] Hash) Generate()
    {
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        var secret = Prefix + Base64Url.EncodeToString(random);
        return (secret, Hash(secret));
    }

    /// <summary>SHA-256 of the secret's UTF-8 bytes.</summary>
    public static byte[] Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    /// <summary>Whether an operator-supplied secret is long enough and free of whitespace and control characters.</summary>
    public static bool IsAcceptableSupplied(string secret, out string? error)
    {
        if (secret.Length < MinSuppliedLength || secret.Length > MaxLength)
        {
            error = $"An admin token must be {MinSuppliedLength} to {MaxLength} characters long.";
            return false;
        }

        foreach (var c in secret)
        {
            if (c <= ' ' || c >= 0x7f)
            {
                error = "An admin token may hold only printable ASCII characters other than space.";
                return false;
            }
        }

        error = null;
        return true;
    }
}
