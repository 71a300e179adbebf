// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Server.Caching;
using Keel.Server.Http;
using Keel.Server.Security;
using Keel.Server.Storage;
using Keel.Server.Watch;
using Keel.Server.Webhooks;
using Keel.Storage.Postgres;
using Keel.Storage.Sqlite;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Keel.Server.Hosting;

/// <summary>The server's composition, one subsystem per method.</summary>
static class KeelServiceCollectionExtensions
{
    /// <summary>The backend store chosen by <c>Keel:Storage:Provider</c>, its data folder, start-up and readiness check.</summary>
    public static IServiceCollection AddKeelStorage(this IServiceCollection services)
    {
        services.AddOptions<DataOptions>().BindConfiguration(DataOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SqliteStorageOptions>().BindConfiguration(SqliteStorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PostgresStorageOptions>().BindConfiguration(PostgresStorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidation>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DataDirectory>();
        services.AddOptions<EncryptionOptions>().BindConfiguration(EncryptionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IKeyEncryptionKey, MasterKeySource>();

        services.TryAddSingleton<IKeelStore>(static sp =>
        {
            var provider = sp.GetRequiredService<IOptions<StorageOptions>>().Value.Provider;
            return provider switch
            {
                StorageOptions.SqliteProvider => CreateSqliteStore(sp),
                StorageOptions.PostgresProvider => CreatePostgresStore(sp),
                _ => throw new InvalidOperationException($"Unknown Keel:Storage:Provider '{provider}'."),
            };
        });

        // Every part of the backend but its configuration store, which the cache wraps (AddKeelCache).
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Lifecycle);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Changes);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Webhooks);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Tokens);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Audit);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Keys);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Schemas);

        // Null on a backend without an online backup of its own.
        services.TryAddSingleton(static sp => sp.GetRequiredService<IKeelStore>().Backup!);
        services.AddOptions<Schemas.SchemaOptions>().BindConfiguration(Schemas.SchemaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<Schemas.SchemaValidator>();
        services.AddOptions<Flags.FlagOptions>().BindConfiguration(Flags.FlagOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<Flags.CompiledFlags>();

        services.AddHostedService<StoreStartup>();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [ReadyTag]);
        return services;
    }

    static SqliteStore CreateSqliteStore(IServiceProvider services)
    {
        var sqlite = services.GetRequiredService<IOptions<SqliteStorageOptions>>().Value;
        return new SqliteStore(
            new SqliteStoreOptions
            {
                DatabasePath = services.GetRequiredService<DataDirectory>().PathOf(sqlite.FileName),
                BusyTimeout = sqlite.BusyTimeout,
                MaxGroupCommitChanges = sqlite.MaxGroupCommitChanges,
            },
            services.GetRequiredService<IKeyEncryptionKey>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<SqliteStore>>());
    }

    static PostgresStore CreatePostgresStore(IServiceProvider services)
    {
        var postgres = services.GetRequiredService<IOptions<PostgresStorageOptions>>().Value;
        return new(
            new PostgresStoreOptions { ConnectionString = postgres.ConnectionString!, MaxGroupCommitChanges = postgres.MaxGroupCommitChanges },
            services.GetRequiredService<IKeyEncryptionKey>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<PostgresStore>>());
    }

    /// <summary>The bounded configuration cache, placed in front of the backend store as the <see cref="IConfigStore"/> everyone uses.</summary>
    public static IServiceCollection AddKeelCache(this IServiceCollection services)
    {
        services.AddOptions<CacheOptions>().BindConfiguration(CacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ConfigCache>();
        services.TryAddSingleton(static sp => new CachingConfigStore(
            sp.GetRequiredService<IKeelStore>().Configs, sp.GetRequiredService<ConfigCache>()));
        services.TryAddSingleton<IConfigStore>(static sp => sp.GetRequiredService<CachingConfigStore>());
        services.TryAddSingleton<CacheWarming>();
        services.AddHostedService(static sp => sp.GetRequiredService<CacheWarming>());
        return services;
    }

    /// <summary>
    /// Bearer tokens for every endpoint but the health checks, permission policies, the bootstrap admin token, rate limits, and
    /// HTTPS with optional client certificates.
    /// Registered after storage, so that the tokens load once the store is up.
    /// </summary>
    public static IServiceCollection AddKeelSecurity(this IServiceCollection services)
    {
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<TokenRegistry>();
        services.AddHostedService<SecurityStartup>();

        services.AddOptions<TlsOptions>().BindConfiguration(TlsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<TlsCertificates>();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<TlsOptions>, IServiceProvider>(static (kestrel, tls, sp) =>
        {
            if (tls.Value.Enabled)
            {
                kestrel.ConfigureHttpsDefaults(https => sp.GetRequiredService<TlsCertificates>().Configure(https));
            }
        });

        services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        KeelPolicies.Add(services.AddAuthorizationBuilder());
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.Policy.IPolicyEvaluator, TokenPolicyEvaluator>();
        services.AddRateLimiter(static _ => { });
        services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>()
            .Configure<IOptions<RateLimitingOptions>>(static (limiter, options) => RateLimiting.Configure(limiter, options.Value));
        return services;
    }

    /// <summary>
    /// Change propagation: the in-memory change feed and its pump, watch streams and long-polls, and webhook delivery.
    /// Registered after storage, so that the feed starts once the store is up.
    /// </summary>
    public static IServiceCollection AddKeelPropagation(this IServiceCollection services)
    {
        services.AddOptions<ChangeFeedOptions>().BindConfiguration(ChangeFeedOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WatchOptions>().BindConfiguration(WatchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>()
            .BindConfiguration(WebhookOptions.Section)
            .ValidateDataAnnotations()
            .Validate(static o => o.MaxBackoff >= o.InitialBackoff, "Keel:Webhooks:MaxBackoff must be at least Keel:Webhooks:InitialBackoff.")
            .Validate(static o => o.LeaseDuration > o.Timeout, "Keel:Webhooks:LeaseDuration must be longer than Keel:Webhooks:Timeout.")
            .ValidateOnStart();
        services.TryAddSingleton<ChangeFeed>();
        services.TryAddSingleton<ChangeReader>();
        services.TryAddSingleton<WatchMetrics>();
        services.TryAddSingleton<WatchAdmission>();
        services.TryAddSingleton<WebhookTargets>();
        services.AddHostedService<ChangeFeedPump>();
        services.TryAddSingleton<WebhookDispatcher>();
        services.AddHostedService(static sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }

    /// <summary>
    /// Request limits, JSON, problem bodies for every failure, forwarded headers from known proxies, CORS for OFREP, and the
    /// OpenAPI document.
    /// </summary>
    public static IServiceCollection AddKeelApi(this IServiceCollection services)
    {
        services.AddKeelCompression();
        services.AddOptions<LimitsOptions>()
            .BindConfiguration(LimitsOptions.Section)
            .ValidateDataAnnotations()
            .Validate(
                static o => o.MaxRequestBodyBytes >= o.MaxValueBytes,
                "Keel:Limits:MaxRequestBodyBytes must be at least Keel:Limits:MaxValueBytes.")
            .ValidateOnStart();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>(static (kestrel, options) =>
        {
            // Slow and greedy clients: each holds a connection, so each is bounded in count, size and time.
            var limits = options.Value;
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = limits.MaxConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeaderBytes;
            kestrel.Limits.MaxRequestLineSize = Math.Min(kestrel.Limits.MaxRequestLineSize, limits.MaxRequestHeaderBytes);
            kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyBytesPerSecond == 0
                ? null
                : new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod);
        });

        services.ConfigureHttpJsonOptions(static o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, KeelJson.Context);
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.Encoder = KeelJson.Context.Options.Encoder;
        });

        services.AddProblemDetails(static o => o.CustomizeProblemDetails = static context =>
        {
            var problem = context.ProblemDetails;
            problem.Instance ??= context.HttpContext.Request.Path;
            context.HttpContext.Response.Headers[KeelHost.RequestIdHeader] = context.HttpContext.TraceIdentifier;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            if (!problem.Extensions.ContainsKey("code"))
            {
                var code = Problems.CodeForStatus(status);
                problem.Extensions["code"] = code;
                problem.Type = Problems.TypePrefix + code;
                problem.Detail ??= Problems.DetailForStatus(status);
            }
        });
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>()
            .Configure<IOptions<ForwardedHeadersSettings>>(static (forwarded, settings) => settings.Value.Configure(forwarded));
        services.AddExceptionHandler<KeelExceptionHandler>();
        services.AddOptions<Search.SearchOptions>().BindConfiguration(Search.SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<SnapshotReads>();
        services.TryAddSingleton<Config.ConfigWritePipeline>();

        services.AddOptions<Flags.OfrepCorsOptions>().BindConfiguration(Flags.OfrepCorsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<Flags.OfrepCorsOptions>>(static (cors, ofrep) => ofrep.Value.AddPolicy(cors));

        // Placed first, so that it wraps the host filtering the framework's own startup filter puts ahead of the pipeline.
        services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, HostFilteringProblems>());
        services.Configure<HostFilteringOptions>(static o => o.IncludeFailureMessage = false);
        services.AddOpenApi();
        return services;
    }

    public const string ReadyTag = "ready";
}
