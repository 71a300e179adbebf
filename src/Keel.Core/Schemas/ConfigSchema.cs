// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Schemas;

/// <summary>A JSON Schema that the values of a service's keys matching a pattern must validate against, in every environment.</summary>
public sealed class ConfigSchema
{
    /// <summary>The service.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The key pattern: an exact key, or a prefix ending in <c>*</c>.</summary>
    public required string KeyPattern { get; init; }

    /// <summary>The JSON Schema document, as its writer sent it.</summary>
    public required string Schema { get; init; }

    /// <summary>The schema's version: 1 when first put, one more on each later put, continuing after a delete.</summary>
    public required long Version { get; init; }

    /// <summary>When this version was put.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Who put this version.</summary>
    public required string UpdatedBy { get; init; }
}
