// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Http;

/// <summary>A 200 answer of JSON rendered ahead of the request, as the cache keeps a key's answer; written as it is.</summary>
sealed class RenderedJson(byte[] utf8Json) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = utf8Json.Length;
        return response.Body.WriteAsync(utf8Json, httpContext.RequestAborted).AsTask();
    }
}
