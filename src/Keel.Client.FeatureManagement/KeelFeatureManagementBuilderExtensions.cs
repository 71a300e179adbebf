// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Client.FeatureManagement;
using Keel.Client.Flags;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.FeatureManagement;

/// <summary>Makes Keel's feature flags the features of Microsoft.FeatureManagement.</summary>
public static class KeelFeatureManagementBuilderExtensions
{
    /// <summary>
    /// Registers a <see cref="KeelFlagClient"/> (as <c>services.AddKeelFlags</c> does) and makes its flags the features that
    /// <see cref="IFeatureManager"/>, <see cref="IVariantFeatureManager"/> and <c>[FeatureGate]</c> answer for, each
    /// evaluated by Keel's own engine with the <c>Keel.Flag</c> filter.
    /// </summary>
    /// <param name="builder">The builder <c>services.AddFeatureManagement()</c> returns.</param>
    /// <param name="configure">Selects the server, token and flags.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are incomplete or invalid.</exception>
    /// <exception cref="InvalidOperationException">A Keel flag client is registered already.</exception>
    /// <remarks>
    /// A feature is enabled when its flag evaluates to <see langword="true"/>, or, for a flag whose values are not booleans,
    /// when the evaluation gives a variant. <c>GetVariantAsync</c> answers the evaluated variant, its value as the variant's
    /// configuration. The targeting context's <c>UserId</c> becomes <c>targetingKey</c> and its <c>Groups</c> become
    /// <c>groups</c>, over what an <see cref="IKeelFlagAttributesAccessor"/>, if one is registered, adds. Feature names are
    /// flag keys, matched exactly. A registered <c>ISessionManager</c> that answers for a feature answers instead of Keel,
    /// and <c>GetVariantAsync</c> then has no variant.
    /// </remarks>
    public static IFeatureManagementBuilder AddKeelFeatureFlags(this IFeatureManagementBuilder builder, Action<KeelFlagOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKeelFlags(configure);
        return builder.UseKeelFlags();
    }

    /// <summary>
    /// Registers a <see cref="KeelFlagClient"/> configured with the application's services (such as its configuration) and
    /// makes its flags the application's features, as <see cref="AddKeelFeatureFlags(IFeatureManagementBuilder, Action{KeelFlagOptions})"/> does.
    /// </summary>
    /// <param name="builder">The builder <c>services.AddFeatureManagement()</c> returns.</param>
    /// <param name="configure">Selects the server, token and flags, given the application's services.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">A Keel flag client is registered already.</exception>
    public static IFeatureManagementBuilder AddKeelFeatureFlags(this IFeatureManagementBuilder builder, Action<IServiceProvider, KeelFlagOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKeelFlags(configure);
        return builder.UseKeelFlags();
    }

    /// <summary>
    /// Makes the flags of the <see cref="KeelFlagClient"/> that <c>services.AddKeelFlags(...)</c> registered the features
    /// that <see cref="IFeatureManager"/>, <see cref="IVariantFeatureManager"/> and <c>[FeatureGate]</c> answer for, so that
    /// the application and its feature manager share one client.
    /// </summary>
    /// <param name="builder">The builder <c>services.AddFeatureManagement()</c> returns.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">No Keel flag client is registered.</exception>
    public static IFeatureManagementBuilder AddKeelFeatureFlags(this IFeatureManagementBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(KeelFlagClient)))
        {
            throw new InvalidOperationException("No Keel flag client is registered: call services.AddKeelFlags(...) first, or AddKeelFeatureFlags(o => ...).");
        }

        return builder.UseKeelFlags();
    }

    static IFeatureManagementBuilder UseKeelFlags(this IFeatureManagementBuilder builder)
    {
        // Registered after AddFeatureManagement's own provider, this one is the one the feature manager is given.
        builder.Services.AddSingleton<IFeatureDefinitionProvider, KeelFeatureDefinitionProvider>();
        return builder.AddFeatureFilter<KeelFlagFilter>().AddFeatureFilter<KeelContextualFlagFilter>();
    }
}
