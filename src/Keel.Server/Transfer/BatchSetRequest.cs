// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Server.Transfer;

sealed class BatchSetRequest
{
    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public string? ChangeDescription { get; set; }

    public List<BatchSetItem?>? Configs { get; set; }
}

sealed class BatchSetItem
{
    public string? ConfigKey { get; set; }

    /// <summary>Undefined when the field is absent; a JSON null is kept as one, so the two are told apart.</summary>
    public JsonElement ConfigValue { get; set; }

    public string? ValueType { get; set; }

    public bool? Encrypt { get; set; }

    /// <summary>The version the key must be at; 0 when it must not exist.</summary>
    public long? ExpectedVersion { get; set; }
}
