// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Flags.JsonLogic;

namespace Keel.Client.Flags;

/// <summary>Which flags a <see cref="KeelFlagClient"/> reads, from where, and how it keeps them current.</summary>
/// <remarks>
/// Every method returns the same options so that calls chain. <see cref="KeelClientOptions{TOptions}.Connect(Uri, string)"/>
/// and <see cref="Select"/> are required; anything else has a default.
/// </remarks>
public sealed class KeelFlagOptions : KeelClientOptions<KeelFlagOptions>
{
    internal KeelSelection? Selection { get; private set; }

    internal LogicLimits Limits { get; private set; } = LogicLimits.Default;

    /// <summary>Reads the flags of <paramref name="serviceName"/> in <paramref name="environment"/>; a later call replaces an earlier one.</summary>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">A name is empty or not a valid Keel service or environment name.</exception>
    public KeelFlagOptions Select(string serviceName, string environment)
    {
        Selection = KeelSelection.Create(serviceName, environment, keyPrefix: null);
        return this;
    }

    /// <summary>
    /// Bounds the work one evaluation of a targeting rule may do, as the server's <c>Keel:Flags</c> settings bound it there;
    /// <see cref="LogicLimits.Default"/> unless set. An evaluation that needs more is an error, not a hang.
    /// </summary>
    /// <param name="limits">The bounds.</param>
    /// <returns>These options.</returns>
    public KeelFlagOptions UseLimits(LogicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Limits = limits;
        return this;
    }

    internal override void Validate()
    {
        base.Validate();
        if (Selection is null)
        {
            throw new ArgumentException("No flags are selected: call Select(serviceName, environment).");
        }
    }
}
