// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Keel.Core;
using Keel.Server.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace Keel.Server.Security;

/// <summary>
/// One global limiter chained from two token buckets: per token (for authenticated requests) and per client address (for every
/// request, so that guessing tokens is throttled too). Health checks are never limited.
/// </summary>
static class RateLimiting
{
    public static void Configure(RateLimiterOptions limiter, RateLimitingOptions options)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        // A limit that is off adds no limiter at all, so that the default costs a request nothing.
        List<PartitionedRateLimiter<HttpContext>> limiters = [];
        if (options.PerTokenPermitsPerSecond > 0)
        {
            limiters.Add(PartitionedRateLimiter.Create<HttpContext, string>(context =>
                IsHealthCheck(context) || context.User.Identity is not TokenIdentity identity
                    ? RateLimitPartition.GetNoLimiter(string.Empty)
                    : RateLimitPartition.GetTokenBucketLimiter(
                        identity.Token.Id, _ => Bucket(options.PerTokenPermitsPerSecond, options.PerTokenBurst))));
        }

        if (options.PerAddressPermitsPerSecond > 0)
        {
            limiters.Add(PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                IsHealthCheck(context)
                    ? RateLimitPartition.GetNoLimiter(IPAddress.None)
                    : RateLimitPartition.GetTokenBucketLimiter(
                        context.ClientAddress() ?? IPAddress.None,
                        _ => Bucket(options.PerAddressPermitsPerSecond, options.PerAddressBurst))));
        }

        if (limiters.Count == 1)
        {
            limiter.GlobalLimiter = limiters[0];
        }
        else if (limiters.Count > 1)
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained([.. limiters]);
        }

        limiter.OnRejected = static async (context, cancellationToken) =>
        {
            var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                : 1;
            var http = context.HttpContext;
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = Problems.Create(KeelError.RateLimited, $"Too many requests; retry in {seconds} s (Keel:RateLimiting)."),
            });
        };
    }

    static TokenBucketRateLimiterOptions Bucket(int permitsPerSecond, int burst) => new()
    {
        TokensPerPeriod = permitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        TokenLimit = burst > 0 ? burst : permitsPerSecond,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    static bool IsHealthCheck(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/healthz") || context.Request.Path.StartsWithSegments("/readyz");
}
