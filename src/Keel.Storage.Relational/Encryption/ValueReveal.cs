// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Encryption;
using Keel.Storage.Relational.Webhooks;

namespace Keel.Storage.Relational.Encryption;

/// <summary>
/// Turns stored envelopes into plaintext for reads. A key the ring does not hold was created by another node's rotation: the
/// ring is reloaded once before the value counts as undecryptable. A failure is logged, never the value.
/// </summary>
sealed class ValueReveal(RelationalDatabase db)
{
    public async ValueTask<ConfigEntry> RevealAsync(ConfigEntry entry, CancellationToken cancellationToken)
    {
        if (!entry.IsEncrypted)
        {
            return entry;
        }

        var plaintext = await DecryptAsync(entry.Id, entry.Version, entry.Value, cancellationToken).ConfigureAwait(false);
        return plaintext is null ? entry with { Value = string.Empty, DecryptionFailed = true } : entry with { Value = plaintext };
    }

    public async Task<IReadOnlyList<ConfigEntry>> RevealAllAsync(List<ConfigEntry> entries, CancellationToken cancellationToken)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i] = await RevealAsync(entries[i], cancellationToken).ConfigureAwait(false);
        }

        return entries;
    }

    public async Task<IReadOnlyList<ConfigVersion>> RevealAllAsync(ConfigId id, List<ConfigVersion> versions, CancellationToken cancellationToken)
    {
        for (var i = 0; i < versions.Count; i++)
        {
            var version = versions[i];
            if (version.IsEncrypted && version.Value is not null)
            {
                var plaintext = await DecryptAsync(id, version.Version, version.Value, cancellationToken).ConfigureAwait(false);
                versions[i] = plaintext is null ? version with { Value = string.Empty, DecryptionFailed = true } : version with { Value = plaintext };
            }
        }

        return versions;
    }

    /// <summary>A subscription's signing secret; <see langword="null"/>, logged, when it fails to decrypt.</summary>
    public async Task<string?> RevealSecretAsync(string subscriptionId, string envelope, CancellationToken cancellationToken)
    {
        var status = db.Ring.TryDecryptSecret(WebhookTables.SecretPurpose, subscriptionId, envelope, out var secret);
        if (status == DecryptionStatus.UnknownKey)
        {
            await db.ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            status = db.Ring.TryDecryptSecret(WebhookTables.SecretPurpose, subscriptionId, envelope, out secret);
        }

        if (status != DecryptionStatus.Ok)
        {
            Log.WebhookSecretDecryptionFailed(db.Logger, subscriptionId, status);
        }

        return secret;
    }

    async Task<string?> DecryptAsync(ConfigId id, long version, string envelope, CancellationToken cancellationToken)
    {
        var status = db.Ring.TryDecrypt(id, version, envelope, out var plaintext);
        if (status == DecryptionStatus.UnknownKey)
        {
            await db.ReloadKeyRingAsync(cancellationToken).ConfigureAwait(false);
            status = db.Ring.TryDecrypt(id, version, envelope, out plaintext);
        }

        if (status == DecryptionStatus.Ok)
        {
            return plaintext;
        }

        Log.DecryptionFailed(db.Logger, id.ServiceName, id.Environment, id.Key, version, status);
        return null;
    }
}
