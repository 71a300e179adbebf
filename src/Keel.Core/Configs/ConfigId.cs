// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Configs;

/// <summary>
/// Identifies one configuration key: a service, an environment and a key within them. Compared ordinally.
/// </summary>
/// <param name="ServiceName">The service the key belongs to.</param>
/// <param name="Environment">The environment (dev, staging, prod, ...) the key belongs to.</param>
/// <param name="Key">The key.</param>
public readonly record struct ConfigId(string ServiceName, string Environment, string Key)
{
    /// <summary>Returns <c>service/environment/key</c>, the form used in paths and logs.</summary>
    public override string ToString() => $"{ServiceName}/{Environment}/{Key}";
}
