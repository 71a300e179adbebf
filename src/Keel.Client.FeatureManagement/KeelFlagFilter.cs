// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Flags;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace Keel.Client.FeatureManagement;

/// <summary>Evaluates a Keel flag for the ambient targeting context (<see cref="ITargetingContextAccessor"/>), when the caller gives none.</summary>
[FilterAlias(KeelFeature.FilterAlias)]
sealed class KeelFlagFilter(KeelFlagClient client, ITargetingContextAccessor? targeting = null, IKeelFlagAttributesAccessor? attributes = null) : IFeatureFilter
{
    public async Task<bool> EvaluateAsync(FeatureFilterEvaluationContext context)
    {
        var current = targeting is null ? null : await targeting.GetContextAsync().ConfigureAwait(false);
        return await KeelFeature.EvaluateAsync(context, client, current, attributes).ConfigureAwait(false);
    }
}
