// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;

namespace Keel.Server.Http;

/// <summary>
/// Gives host filtering's refusal a problem body. With <c>AllowedHosts</c> set, the framework's own startup filter runs host
/// filtering ahead of Keel's pipeline, so its 400 meets neither the exception handler nor the status code pages; this filter is
/// registered ahead of that one, so its middleware runs outside host filtering and answers in place of the framework's HTML page.
/// </summary>
sealed class HostFilteringProblems : IStartupFilter
{
    const string Detail = "The Host header names no host this server answers for (AllowedHosts).";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var problems = app.ApplicationServices.GetRequiredService<IProblemDetailsService>();
        app.Use(async (context, next) =>
        {
            await next(context);

            // Keel's pipeline writes a body with every 400 it answers; host filtering refuses before routing and writes none.
            if (context.Response is { HasStarted: false, StatusCode: StatusCodes.Status400BadRequest } && context.GetEndpoint() is null)
            {
                await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = Problems.Create(KeelError.MalformedRequest, Detail),
                });
            }
        });
        next(app);
    };
}
