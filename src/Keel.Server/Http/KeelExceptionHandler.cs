// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Data.Common;
using Keel.Core;
using Keel.Core.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace Keel.Server.Http;

/// <summary>
/// Turns the failures that reach the pipeline into problem bodies: <see cref="KeelException"/> by its error, Kestrel's and the
/// framework's request errors by their status, an unavailable store by 503. Anything else is left to the default handler, which
/// logs it and answers 500.
/// </summary>
sealed class KeelExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case KeelException { Error: KeelError.ServerBusy } busy:
                httpContext.Response.Headers.RetryAfter = "1";
                return await WriteAsync(httpContext, exception, Problems.Create(busy.Error, busy.Message, busy.FieldErrors)).ConfigureAwait(false);

            case KeelException keel:
                return await WriteAsync(httpContext, exception, Problems.Create(keel.Error, keel.Message, keel.FieldErrors)).ConfigureAwait(false);

            case BadHttpRequestException bad:
                var error = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => KeelError.PayloadTooLarge,
                    StatusCodes.Status415UnsupportedMediaType => KeelError.UnsupportedMediaType,
                    _ => KeelError.MalformedRequest,
                };
                var problem = Problems.Create(error, bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is larger than the server accepts (Keel:Limits:MaxRequestBodyBytes)."
                    : "The request could not be read.");
                problem.Status = bad.StatusCode;
                return await WriteAsync(httpContext, exception, problem).ConfigureAwait(false);

            case StoreUnavailableException or DbException { IsTransient: true }:
                // Nothing was changed, and the same request may succeed in a moment.
                httpContext.Response.Headers.RetryAfter = "1";
                var unavailable = Problems.Create(
                    KeelError.StoreUnavailable, "The store cannot serve requests right now; nothing was changed. Retry shortly.");
                return await WriteAsync(httpContext, exception, unavailable).ConfigureAwait(false);

            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                // The client is gone; there is no one to answer.
                httpContext.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return true;

            default:
                return false;
        }
    }

    async ValueTask<bool> WriteAsync(HttpContext httpContext, Exception exception, Microsoft.AspNetCore.Mvc.ProblemDetails problem)
    {
        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        }).ConfigureAwait(false);
    }
}
