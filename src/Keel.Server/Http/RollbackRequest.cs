// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;

namespace Keel.Server.Http;

// The body of a rollback, of a key or a flag alike. Every field is nullable so that a missing field is reported by name
// instead of by the serializer's first complaint.
sealed class RollbackRequest
{
    public long? TargetVersion { get; set; }

    public string? ChangeDescription { get; set; }

    /// <summary>Reads a rollback's body: a <c>target_version</c> of 1 or more and an optional description within its limit.</summary>
    public static async Task<(RollbackRequest Body, long Target)> ReadAsync(HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(request, KeelJson.Context.RollbackRequest, cancellationToken);
        if (body.TargetVersion is not { } target)
        {
            throw new KeelException(
                KeelError.MalformedRequest, "The request must carry target_version.", [new FieldError("target_version", "target_version is required.")]);
        }

        if (target < 1)
        {
            throw new KeelException(
                KeelError.InvalidRequest, "target_version must be 1 or more.", [new FieldError("target_version", "target_version must be 1 or more.")]);
        }

        ConfigWriteInput.CheckDescription(body.ChangeDescription, limits);
        return (body, target);
    }
}
