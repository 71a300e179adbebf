// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Audit;
using Keel.Server.Backup;
using Keel.Server.Caching;
using Keel.Server.Config;
using Keel.Server.Flags;
using Keel.Server.Http;
using Keel.Server.Keys;
using Keel.Server.Schemas;
using Keel.Server.Search;
using Keel.Server.Security;
using Keel.Server.Tokens;
using Keel.Server.Transfer;
using Keel.Server.Watch;
using Keel.Server.Webhooks;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Keel.Server.Hosting;

/// <summary>Builds the Keel server from its command line; <c>Program</c> runs it, tests start it on a loopback port.</summary>
static class KeelHost
{
    /// <summary>Where the server listens when nothing else says and no certificate is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public const string DataDirVariable = "KEEL_DATA_DIR";

    public const string AdminTokenVariable = "KEEL_ADMIN_TOKEN";

    public const string MasterKeyVariable = "KEEL_MASTER_KEY";

    public const string StorageProviderVariable = "KEEL_STORAGE_PROVIDER";

    public const string PostgresConnectionStringVariable = "KEEL_POSTGRES_CONNECTION_STRING";

    /// <summary>The header every answer carries the request's id in.</summary>
    public const string RequestIdHeader = "X-Request-Id";

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
            .AddKeelSecurity()
            .AddKeelCache()
            .AddKeelPropagation()
            .AddKeelApi();
        configure?.Invoke(builder);

        var app = builder.Build();
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.Enabled)
        {
            // First: the audit trail, rate limits and watcher caps all see the client's address as the proxies report it.
            app.UseForwardedHeaders();
        }

        app.Use(static (context, next) =>
        {
            // The id audit records and error logs carry, so that a client can quote it; problem answers set it again
            // (KeelServiceCollectionExtensions.AddKeelApi), since the exception handler clears the headers it finds.
            context.Response.Headers[RequestIdHeader] = context.TraceIdentifier;
            return next(context);
        });
        app.UseKeelCompression();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // Before authentication and rate limits: a browser's preflight carries no token, and only the endpoints that require a
        // CORS policy (OFREP's, when origins are configured) answer it here; every other request passes through untouched.
        app.UseCors();
        app.UseMiddleware<TokenAuthenticationMiddleware>();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = static c => c.Tags.Contains(KeelServiceCollectionExtensions.ReadyTag) })
            .AllowAnonymous();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapConfigEndpoints();
        app.MapTransferEndpoints();
        app.MapSearchEndpoints();
        app.MapSchemaEndpoints();
        app.MapFlagEndpoints();
        app.MapOfrepEndpoints();
        app.MapTokenEndpoints();
        app.MapAuditEndpoints();
        app.MapKeyEndpoints();
        app.MapBackupEndpoints();
        app.MapCacheEndpoints();
        app.MapWatchEndpoints();
        app.MapWebhookEndpoints();
        return app;
    }

    /// <summary>
    /// <c>KEEL_DATA_DIR</c> and <c>--data-dir</c> are shorthands for <c>Keel:DataDir</c>, <c>KEEL_ADMIN_TOKEN</c> for
    /// <c>Keel:Security:AdminToken</c>, <c>KEEL_MASTER_KEY</c> for <c>Keel:Encryption:MasterKey</c>, <c>KEEL_STORAGE_PROVIDER</c>
    /// for <c>Keel:Storage:Provider</c>, <c>KEEL_POSTGRES_CONNECTION_STRING</c> for <c>Keel:Storage:Postgres:ConnectionString</c>;
    /// the command line wins over the variables, and both over appsettings.json.
    /// </summary>
    static void AddKeelConfigurationSources(ConfigurationManager configuration, string[] args)
    {
        foreach (var (variable, key) in new[]
        {
            (DataDirVariable, "Keel:DataDir"),
            (AdminTokenVariable, "Keel:Security:AdminToken"),
            (MasterKeyVariable, "Keel:Encryption:MasterKey"),
            (StorageProviderVariable, "Keel:Storage:Provider"),
            (PostgresConnectionStringVariable, "Keel:Storage:Postgres:ConnectionString"),
        })
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                configuration.AddInMemoryCollection([new(key, fromEnvironment)]);
            }
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
            builder.WebHost.UseUrls(string.IsNullOrEmpty(configuration[$"{Security.TlsOptions.Section}:{nameof(Security.TlsOptions.CertificateFile)}"])
                ? DefaultUrl
                : Security.TlsOptions.DefaultUrl);
        }
    }
}
