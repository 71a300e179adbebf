// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.Flags;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace Keel.Client.FeatureManagement;

/// <summary>Evaluates a Keel flag for the targeting context the caller gives (<c>IsEnabledAsync(feature, context)</c>, <c>GetVariantAsync(feature, context)</c>).</summary>
[FilterAlias(KeelFeature.FilterAlias)]
sealed class KeelContextualFlagFilter(KeelFlagClient client, IKeelFlagAttributesAccessor? attributes = null) : IContextualFeatureFilter<ITargetingContext>
{
    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext featureFilterContext, ITargetingContext appContext) =>
        KeelFeature.EvaluateAsync(featureFilterContext, client, appContext, attributes);
}
