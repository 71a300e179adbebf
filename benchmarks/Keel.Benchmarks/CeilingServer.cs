// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Benchmarks;

/// <summary>
/// The framework's ceiling for a cached read: a minimal ASP.NET Core app that answers Keel's GET route with fixed bytes,
/// <c>ceiling --url http://127.0.0.1:18082 --body-file answer.json</c>. The body is a real Keel answer, so both servers
/// write the same bytes; what Keel costs beyond this is authentication, authorization, the cache and serialization.
/// </summary>
static class CeilingServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = ConfigLoader.Parse(args);
        var url = options.GetValueOrDefault("url", "http://127.0.0.1:18082");
        var body = await File.ReadAllBytesAsync(options["body-file"]);

        // The same host defaults Keel starts from (WebApplication.CreateBuilder, warnings only in the log).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapGet("/api/v1/config/{service_name}/{environment}/{config_key}", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Ceiling serving {body.Length} bytes at {url}"));
        await app.RunAsync();
        return 0;
    }
}
