// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;

namespace Keel.Server.Http;

/// <summary>Settings of <c>Keel:Compression</c>: Brotli or gzip for the large answers, when the client asks for it.</summary>
sealed class CompressionOptions
{
    public const string Section = "Keel:Compression";

    /// <summary>Whether large answers are compressed for a client that sends <c>Accept-Encoding</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether answers over HTTPS are compressed too. Off by default: a compressed answer that holds a secret beside text an
    /// attacker chooses can leak the secret through its length (BREACH).
    /// </summary>
    public bool EnableForHttps { get; set; }

    /// <summary>The least body, in bytes, worth compressing when the answer states its length; smaller ones go as they are.</summary>
    [Range(0, int.MaxValue)]
    public int MinimumBytes { get; set; } = 1024;
}

/// <summary>
/// Compression of the answers that grow with the data (listings, history, search, exports, flag files, bulk OFREP): an endpoint
/// opts in with <see cref="WithCompression"/>, and every other answer (a single key, a problem, a watch stream) goes as it is.
/// </summary>
static class AnswerCompression
{
    public static TBuilder WithCompression<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Compressible.Instance);

    public static IServiceCollection AddKeelCompression(this IServiceCollection services)
    {
        services.AddOptions<CompressionOptions>().BindConfiguration(CompressionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddResponseCompression();
        services.AddOptions<ResponseCompressionOptions>().Configure<IOptions<CompressionOptions>>(static (compression, settings) =>
        {
            compression.EnableForHttps = settings.Value.EnableForHttps;
            compression.Providers.Add<BrotliCompressionProvider>();
            compression.Providers.Add<GzipCompressionProvider>();
            compression.MimeTypes = ["application/json", "application/yaml", "text/plain"];
        });

        // Brotli's and gzip's fastest levels: a listing is answered once per request, so the CPU spent counts more than the last bytes.
        services.Configure<BrotliCompressionProviderOptions>(static o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(static o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.AddSingleton<IResponseCompressionProvider, CompressibleOnly>();
        return services;
    }

    public static IApplicationBuilder UseKeelCompression(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<CompressionOptions>>().Value.Enabled ? app.UseResponseCompression() : app;

    sealed class Compressible
    {
        public static readonly Compressible Instance = new();
    }

    /// <summary>The framework's choice of encoding, for the endpoints that opted in and bodies not known to be small.</summary>
    sealed class CompressibleOnly(IServiceProvider services, IOptions<ResponseCompressionOptions> options, IOptions<CompressionOptions> settings)
        : IResponseCompressionProvider
    {
        readonly ResponseCompressionProvider _framework = new(services, options);
        readonly int _minimumBytes = settings.Value.MinimumBytes;

        public ICompressionProvider? GetCompressionProvider(HttpContext context) => _framework.GetCompressionProvider(context);

        public bool ShouldCompressResponse(HttpContext context) =>
            OptedIn(context) && !(context.Response.ContentLength < _minimumBytes) && _framework.ShouldCompressResponse(context);

        public bool CheckRequestAcceptsCompression(HttpContext context) =>
            OptedIn(context) && _framework.CheckRequestAcceptsCompression(context);

        static bool OptedIn(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<Compressible>() is not null;
    }
}
