// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Keel.Server.Config;

// Every field is nullable so that a missing field is reported by name, with all the others, instead of by the serializer's
// first complaint.
sealed class PutConfigRequest
{
    /// <summary>Undefined when the field is absent; a JSON null is kept as one, so the two are told apart.</summary>
    public JsonElement ConfigValue { get; set; }

    public string? ValueType { get; set; }

    public string? ChangeDescription { get; set; }

    public bool? Encrypt { get; set; }
}
