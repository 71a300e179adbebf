// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;
using Keel.Core.Security;

namespace Keel.Server.Security;

/// <summary>Authentication settings (<c>Keel:Security</c>).</summary>
sealed class SecurityOptions : IValidatableObject
{
    public const string Section = "Keel:Security";

    /// <summary>The file the first start writes the generated admin token to, inside the data folder.</summary>
    public const string AdminTokenFileName = "admin.token";

    /// <summary>
    /// The bootstrap admin token (<c>KEEL_ADMIN_TOKEN</c>), re-asserted at every start. Without it, the first start generates one
    /// into <c>admin.token</c> in the data folder.
    /// </summary>
    public string? AdminToken { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(AdminToken) && !TokenSecrets.IsAcceptableSupplied(AdminToken, out var error))
        {
            // The message names the setting, never the value.
            yield return new ValidationResult($"KEEL_ADMIN_TOKEN (Keel:Security:AdminToken) is not acceptable: {error}", [nameof(AdminToken)]);
        }
    }
}

/// <summary>Where the master key comes from (<c>Keel:Encryption</c>).</summary>
sealed class EncryptionOptions : IValidatableObject
{
    public const string Section = "Keel:Encryption";

    /// <summary>The file the first start writes a generated master key to, inside the data folder.</summary>
    public const string GeneratedKeyFileName = "master.key";

    /// <summary>The master key as base64 of 32 bytes (<c>KEEL_MASTER_KEY</c>).</summary>
    public string? MasterKey { get; set; }

    /// <summary>A file holding the master key as base64 of 32 bytes; used when <see cref="MasterKey"/> is not set.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Master keys this one replaces, as base64 of 32 bytes each: data keys they wrapped are unwrapped with them and wrapped
    /// again under the master key at start. Remove them once every data key shows the new master key.
    /// </summary>
    public List<string> PreviousMasterKeys { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(MasterKey) && MasterKeySource.Decode(MasterKey) is null)
        {
            yield return new ValidationResult(
                "KEEL_MASTER_KEY (Keel:Encryption:MasterKey) must be base64 of exactly 32 bytes, such as the output of `openssl rand -base64 32`.",
                [nameof(MasterKey)]);
        }

        for (var i = 0; i < PreviousMasterKeys.Count; i++)
        {
            if (MasterKeySource.Decode(PreviousMasterKeys[i]) is null)
            {
                // The message names the position, never the value.
                yield return new ValidationResult(
                    $"Keel:Encryption:PreviousMasterKeys:{i} must be base64 of exactly 32 bytes.", [nameof(PreviousMasterKeys)]);
            }
        }

        if (string.IsNullOrEmpty(MasterKey) && !string.IsNullOrEmpty(KeyFile) && !File.Exists(KeyFile))
        {
            yield return new ValidationResult($"Keel:Encryption:KeyFile '{KeyFile}' does not exist.", [nameof(KeyFile)]);
        }
    }
}

/// <summary>Request rate limits (<c>Keel:RateLimiting</c>); 0 turns a limit off, and both are off unless set.</summary>
sealed class RateLimitingOptions
{
    public const string Section = "Keel:RateLimiting";

    /// <summary>Requests per second each token may make.</summary>
    [Range(0, int.MaxValue)]
    public int PerTokenPermitsPerSecond { get; set; }

    /// <summary>How many requests a token may make at once after being idle; defaults to one second's worth.</summary>
    [Range(0, int.MaxValue)]
    public int PerTokenBurst { get; set; }

    /// <summary>Requests per second each client address may make, with or without a valid token.</summary>
    [Range(0, int.MaxValue)]
    public int PerAddressPermitsPerSecond { get; set; }

    /// <summary>How many requests an address may make at once after being idle; defaults to one second's worth.</summary>
    [Range(0, int.MaxValue)]
    public int PerAddressBurst { get; set; }
}
