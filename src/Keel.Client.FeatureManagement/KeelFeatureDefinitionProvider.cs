// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Flags;
using Microsoft.FeatureManagement;

namespace Keel.Client.FeatureManagement;

/// <summary>The flags a <see cref="KeelFlagClient"/> holds, as feature definitions; one fresh definition per request.</summary>
sealed class KeelFeatureDefinitionProvider(KeelFlagClient client) : IFeatureDefinitionProvider
{
    public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) =>
        Task.FromResult(client.TryGetFlag(featureName, out var flag) ? KeelFeature.Define(flag) : null!);

    public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
    {
        foreach (var key in client.Keys.Order(StringComparer.Ordinal))
        {
            if (client.TryGetFlag(key, out var flag))
            {
                yield return KeelFeature.Define(flag);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
