// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Text;
using Keel.Client.Flags;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace Keel.Client.FeatureManagement;

/// <summary>
/// One request's view of a Keel flag as a feature: the definition handed to the feature manager carries this object as
/// its <c>Keel.Flag</c> filter's settings. The filter evaluates the flag with Keel's engine and records the variant in the
/// definition's allocation, both defaults, so that the feature manager, which assigns variants after the filters ran,
/// answers the variant Keel chose rather than one of its own buckets (they hash differently from flagd's).
/// </summary>
sealed class KeelFeature
{
    public const string FilterAlias = "Keel.Flag";

    // Variant configurations are built once per definition read from Keel, not per request.
    static readonly ConditionalWeakTable<FlagDefinition, VariantDefinition[]> Variants = new();

    readonly FlagDefinition _flag;
    readonly Allocation _allocation;

    KeelFeature(FlagDefinition flag, Allocation allocation)
    {
        _flag = flag;
        _allocation = allocation;
    }

    public static FeatureDefinition Define(FlagDefinition flag)
    {
        var allocation = new Allocation();
        return new FeatureDefinition
        {
            Name = flag.Key,
            EnabledFor = [new FeatureFilterConfiguration { Name = FilterAlias, ParametersObject = new KeelFeature(flag, allocation) }],
            Allocation = allocation,
            Variants = Variants.GetValue(flag, static f => [.. f.Variants.Select(v => new VariantDefinition { Name = v.Key, ConfigurationValue = Section(v.Value) })]),
        };
    }

    /// <summary>Evaluates the flag for <paramref name="targeting"/> and the accessor's attributes, and records the variant.</summary>
    public static async Task<bool> EvaluateAsync(
        FeatureFilterEvaluationContext context, KeelFlagClient client, ITargetingContext? targeting, IKeelFlagAttributesAccessor? attributes)
    {
        if (context.Settings is not KeelFeature feature)
        {
            // Keel.Flag named by a definition from elsewhere carries no Keel flag.
            return false;
        }

        var values = attributes is null ? null : await attributes.GetAttributesAsync(context.CancellationToken).ConfigureAwait(false);
        var result = client.Evaluate(feature._flag, Context(values, targeting));
        feature._allocation.DefaultWhenEnabled = result.Variant;
        feature._allocation.DefaultWhenDisabled = result.Variant;
        return result.Value is { Kind: LogicKind.Boolean } value ? value.Boolean : result.Variant is not null;
    }

    /// <summary>The attributes, with the targeting context's user and groups over them.</summary>
    static Dictionary<string, object?> Context(IReadOnlyDictionary<string, object?>? attributes, ITargetingContext? targeting)
    {
        var context = attributes is null ? new Dictionary<string, object?>(StringComparer.Ordinal) : new Dictionary<string, object?>(attributes, StringComparer.Ordinal);
        if (targeting?.UserId is { } user)
        {
            context["targetingKey"] = user;
        }

        if (targeting?.Groups is { } groups)
        {
            context["groups"] = groups.ToArray();
        }

        return context;
    }

    /// <summary>
    /// A variant's value as configuration, flattened as the JSON configuration provider flattens a file. An object with
    /// two keys that differ only in case, valid JSON that configuration cannot hold, is its JSON text as the section's value
    /// instead, so that one such variant never makes the feature fail.
    /// </summary>
    static IConfigurationSection Section(LogicValue value)
    {
        var text = value.ToJson();
        try
        {
            using var json = new MemoryStream(Encoding.UTF8.GetBytes("{\"value\":" + text + "}"));
            return new ConfigurationBuilder().AddJsonStream(json).Build().GetSection("value");
        }
        catch (FormatException)
        {
            return new ConfigurationBuilder().AddInMemoryCollection([new("value", text)]).Build().GetSection("value");
        }
    }
}
