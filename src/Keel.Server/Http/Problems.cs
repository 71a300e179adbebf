// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Http;

/// <summary>
/// The one place where failures become RFC 7807 problem bodies: each <see cref="KeelError"/> has one status, title and code, and
/// the problem's <c>type</c> is <c>urn:keel:problem:</c> followed by the code.
/// </summary>
static class Problems
{
    public const string TypePrefix = "urn:keel:problem:";

    public static (int Status, string Title, string Code) Describe(KeelError error) => error switch
    {
        KeelError.MalformedRequest => (StatusCodes.Status400BadRequest, "Malformed request", WireNames.ErrorCodes.MalformedRequest),
        KeelError.InvalidName => (StatusCodes.Status400BadRequest, "Invalid name", WireNames.ErrorCodes.InvalidName),
        KeelError.InvalidRequest => (StatusCodes.Status400BadRequest, "Invalid request", WireNames.ErrorCodes.InvalidRequest),
        KeelError.InvalidValue => (StatusCodes.Status422UnprocessableEntity, "Invalid value", WireNames.ErrorCodes.InvalidValue),
        KeelError.ConfigNotFound => (StatusCodes.Status404NotFound, "Configuration not found", WireNames.ErrorCodes.ConfigNotFound),
        KeelError.VersionNotFound => (StatusCodes.Status404NotFound, "Version not found", WireNames.ErrorCodes.VersionNotFound),
        KeelError.PreconditionFailed => (StatusCodes.Status412PreconditionFailed, "Precondition failed", WireNames.ErrorCodes.PreconditionFailed),
        KeelError.RollbackToTombstone => (StatusCodes.Status409Conflict, "Cannot roll back to a delete", WireNames.ErrorCodes.RollbackToTombstone),
        KeelError.PayloadTooLarge => (StatusCodes.Status413PayloadTooLarge, "Payload too large", WireNames.ErrorCodes.PayloadTooLarge),
        KeelError.UnsupportedMediaType => (StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", WireNames.ErrorCodes.UnsupportedMediaType),
        KeelError.StoreUnavailable => (StatusCodes.Status503ServiceUnavailable, "Store unavailable", WireNames.ErrorCodes.StoreUnavailable),
        KeelError.Unauthorized => (StatusCodes.Status401Unauthorized, "Unauthorized", WireNames.ErrorCodes.Unauthorized),
        KeelError.Forbidden => (StatusCodes.Status403Forbidden, "Forbidden", WireNames.ErrorCodes.Forbidden),
        KeelError.OutOfScope => (StatusCodes.Status403Forbidden, "Forbidden", WireNames.ErrorCodes.Forbidden),
        KeelError.TokenNotFound => (StatusCodes.Status404NotFound, "Token not found", WireNames.ErrorCodes.TokenNotFound),
        KeelError.DecryptionFailed => (StatusCodes.Status500InternalServerError, "Stored value fails to decrypt", WireNames.ErrorCodes.DecryptionFailed),
        KeelError.EncryptionRequired => (StatusCodes.Status409Conflict, "The key is encrypted", WireNames.ErrorCodes.EncryptionRequired),
        KeelError.RotationInProgress => (StatusCodes.Status409Conflict, "Rotation in progress", WireNames.ErrorCodes.RotationInProgress),
        KeelError.MasterKeyUnreadable => (StatusCodes.Status409Conflict, "Master key unreadable", WireNames.ErrorCodes.MasterKeyUnreadable),
        KeelError.RateLimited => (StatusCodes.Status429TooManyRequests, "Too many requests", WireNames.ErrorCodes.RateLimited),
        KeelError.SubscriptionNotFound => (StatusCodes.Status404NotFound, "Subscription not found", WireNames.ErrorCodes.SubscriptionNotFound),
        KeelError.DeliveryNotFound => (StatusCodes.Status404NotFound, "Delivery not found", WireNames.ErrorCodes.DeliveryNotFound),
        KeelError.DeliveryPending => (StatusCodes.Status409Conflict, "Delivery pending", WireNames.ErrorCodes.DeliveryPending),
        KeelError.RevisionCompacted => (StatusCodes.Status410Gone, "Revision compacted", WireNames.ErrorCodes.RevisionCompacted),
        KeelError.RevisionAhead => (StatusCodes.Status410Gone, "Revision unknown", WireNames.ErrorCodes.RevisionAhead),
        KeelError.TooManyWatchers => (StatusCodes.Status503ServiceUnavailable, "Too many watchers", WireNames.ErrorCodes.TooManyWatchers),
        KeelError.WatcherQuotaExceeded => (StatusCodes.Status429TooManyRequests, "Watcher quota exceeded", WireNames.ErrorCodes.WatcherQuotaExceeded),
        KeelError.VersionConflict => (StatusCodes.Status409Conflict, "Version conflict", WireNames.ErrorCodes.VersionConflict),
        KeelError.ConcurrentChange => (StatusCodes.Status409Conflict, "Concurrent change", WireNames.ErrorCodes.ConcurrentChange),
        KeelError.SchemaViolation => (StatusCodes.Status422UnprocessableEntity, "Schema violation", WireNames.ErrorCodes.SchemaViolation),
        KeelError.SchemaNotFound => (StatusCodes.Status404NotFound, "Schema not found", WireNames.ErrorCodes.SchemaNotFound),
        KeelError.SchemaTooComplex => (StatusCodes.Status422UnprocessableEntity, "Schema too complex", WireNames.ErrorCodes.SchemaTooComplex),
        KeelError.FlagNotFound => (StatusCodes.Status404NotFound, "Flag not found", WireNames.ErrorCodes.FlagNotFound),
        KeelError.ServerBusy => (StatusCodes.Status503ServiceUnavailable, "Server busy", WireNames.ErrorCodes.ServerBusy),
        KeelError.InvalidFile => (StatusCodes.Status422UnprocessableEntity, "Invalid file", WireNames.ErrorCodes.InvalidFile),
        KeelError.BackupNotSupported => (StatusCodes.Status409Conflict, "Backup not supported", WireNames.ErrorCodes.BackupNotSupported),
        KeelError.AnswerTooLarge => (StatusCodes.Status422UnprocessableEntity, "Answer too large", WireNames.ErrorCodes.AnswerTooLarge),
        _ => throw new ArgumentOutOfRangeException(nameof(error)),
    };

    /// <summary>The code for a status the framework produced on its own (an unmatched route, a body over Kestrel's limit).</summary>
    public static string CodeForStatus(int status) => status switch
    {
        StatusCodes.Status404NotFound => WireNames.ErrorCodes.RouteNotFound,
        StatusCodes.Status405MethodNotAllowed => WireNames.ErrorCodes.MethodNotAllowed,
        StatusCodes.Status413PayloadTooLarge => WireNames.ErrorCodes.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => WireNames.ErrorCodes.UnsupportedMediaType,
        StatusCodes.Status503ServiceUnavailable => WireNames.ErrorCodes.StoreUnavailable,
        StatusCodes.Status401Unauthorized => WireNames.ErrorCodes.Unauthorized,
        StatusCodes.Status403Forbidden => WireNames.ErrorCodes.Forbidden,
        StatusCodes.Status429TooManyRequests => WireNames.ErrorCodes.RateLimited,
        >= 500 => WireNames.ErrorCodes.InternalError,
        _ => WireNames.ErrorCodes.MalformedRequest,
    };

    public static string? DetailForStatus(int status) => status switch
    {
        StatusCodes.Status404NotFound => "No endpoint answers at this path; see /openapi/v1.json.",
        StatusCodes.Status405MethodNotAllowed => "This endpoint does not answer this HTTP method.",
        StatusCodes.Status415UnsupportedMediaType => "Send the request body as application/json in UTF-8.",
        >= 500 => "The server failed to answer; report the trace_id.",
        _ => null,
    };

    public static ProblemDetails Create(KeelError error, string detail, IReadOnlyList<FieldError>? errors = null)
    {
        var (status, title, code) = Describe(error);
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypePrefix + code };
        problem.Extensions["code"] = code;
        if (errors is { Count: > 0 })
        {
            problem.Extensions["errors"] = errors;
        }

        return problem;
    }

    public static ProblemHttpResult Result(KeelError error, string detail, IReadOnlyList<FieldError>? errors = null) =>
        TypedResults.Problem(Create(error, detail, errors));

    public static ProblemHttpResult Result(KeelException exception) =>
        Result(exception.Error, exception.Message, exception.FieldErrors);
}
