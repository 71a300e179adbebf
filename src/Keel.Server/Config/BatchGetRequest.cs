// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Config;

// Every field is nullable so that a missing field is reported by name, with all the others, instead of by the serializer's
// first complaint.
sealed class BatchGetRequest
{
    public string? ServiceName { get; set; }

    public string? Environment { get; set; }

    public List<string>? ConfigKeys { get; set; }
}
