// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Api;
using Keel.Server.Caching;
using Keel.Server.Extensions;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Keel.Server.Hosting;

/// <summary>Builds the Keel server from its command line; <c>Program</c> runs it, tests start it on a loopback port.</summary>
static class KeelHost
{
    /// <summary>Where the server listens when nothing else says.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public const string DataDirVariable = "KEEL_DATA_DIR";

    /// <param name="args">The command line.</param>
    /// <param name="configure">Changes to the services before the app is built; tests use it to capture logs.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json sits beside the binary; the working directory is only where relative data folders resolve.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AddKeelConfigurationSources(builder.Configuration, args);
        UseDefaultUrlUnlessConfigured(builder);

        builder.Services
            .AddKeelStorage()
            .AddKeelCache()
            .AddKeelApi();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = static c => c.Tags.Contains(KeelServiceCollectionExtensions.ReadyTag) });
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapConfigEndpoints();
        app.MapCacheEndpoints();
        return app;
    }

    /// <summary>
    /// <c>KEEL_DATA_DIR</c> and <c>--data-dir</c> are shorthands for <c>Keel:DataDir</c>; the command line wins over the variable,
    /// and both over appsettings.json.
    /// </summary>
    static void AddKeelConfigurationSources(ConfigurationManager configuration, string[] args)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(DataDirVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            configuration.AddInMemoryCollection([new("Keel:DataDir", fromEnvironment)]);
        }

        configuration.AddCommandLine(args, new Dictionary<string, string> { ["--data-dir"] = "Keel:DataDir" });
    }

    static void UseDefaultUrlUnlessConfigured(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (string.IsNullOrEmpty(configuration["urls"])
            && string.IsNullOrEmpty(configuration["http_ports"])
            && string.IsNullOrEmpty(configuration["https_ports"])
            && !configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
    }
}
