// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;

namespace Keel.Client.Http;

/// <summary>Keel answered a request with an error status.</summary>
sealed class KeelHttpException(HttpStatusCode status, string? code, string message, TimeSpan? retryAfter)
    : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The problem's stable <c>code</c>, such as <c>revision_compacted</c>.</summary>
    public string? Code { get; } = code;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>Whether trying the same request again later may succeed.</summary>
    public bool IsTransient => Status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)Status >= 500;

    /// <summary>The token is not accepted, or may not read the selection: retrying does not help until it changes.</summary>
    public bool IsDenied => Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>The revision asked from is not in the change feed any more (or not yet): read the snapshot again.</summary>
    public bool IsGone => Status == HttpStatusCode.Gone;
}
