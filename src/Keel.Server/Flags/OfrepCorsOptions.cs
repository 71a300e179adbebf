// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Net.Http.Headers;

namespace Keel.Server.Flags;

/// <summary>
/// Which web pages may call the OFREP endpoints from a browser (<c>Keel:Ofrep:Cors</c>): none unless origins are listed. CORS
/// never applies to the rest of the API, whose tokens have no business in a browser.
/// </summary>
sealed class OfrepCorsOptions : IValidatableObject
{
    public const string Section = "Keel:Ofrep:Cors";

    /// <summary>The name of the CORS policy the OFREP endpoints require.</summary>
    public const string PolicyName = "ofrep";

    /// <summary>The one entry that allows every origin.</summary>
    public const string AnyOrigin = "*";

    /// <summary>
    /// The origins allowed, each a scheme, host and optional port as a browser sends it in <c>Origin</c>
    /// (<c>https://app.example</c>, <c>http://localhost:3000</c>), or <c>*</c> alone for every origin.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>How long a browser may cache a preflight's answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether any origin may call OFREP from a browser, so that its endpoints take part in CORS at all.</summary>
    public bool Enabled => AllowedOrigins.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AllowedOrigins.Contains(AnyOrigin) && AllowedOrigins.Count > 1)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(AllowedOrigins)}: '{AnyOrigin}' allows every origin, so it must be the only entry.", [nameof(AllowedOrigins)]);
        }

        foreach (var origin in AllowedOrigins.Where(o => o != AnyOrigin))
        {
            if (Serialize(origin) is null)
            {
                yield return new ValidationResult(
                    $"{Section}:{nameof(AllowedOrigins)}: '{origin}' is not an origin. Give the scheme, host and port a browser sends in "
                        + $"Origin (https://app.example, http://localhost:3000), with no path, query or user name, or '{AnyOrigin}' alone for every origin.",
                    [nameof(AllowedOrigins)]);
            }
        }
    }

    /// <summary>
    /// Adds the OFREP policy: POST with the headers OFREP clients send, <c>ETag</c> (which the bulk endpoint's <c>If-None-Match</c>
    /// needs) and <c>Retry-After</c> (which a rate-limited client needs) readable by the page, and no credentials, since OFREP
    /// clients send their bearer token themselves and no cookie means anything to Keel.
    /// </summary>
    public void AddPolicy(CorsOptions cors)
    {
        ArgumentNullException.ThrowIfNull(cors);
        if (!Enabled)
        {
            return;
        }

        cors.AddPolicy(PolicyName, policy =>
        {
            if (AllowedOrigins is [AnyOrigin])
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins([.. AllowedOrigins.Select(o => Serialize(o)!)]);
            }

            policy.WithMethods(HttpMethods.Post)
                .WithHeaders(HeaderNames.Authorization, HeaderNames.ContentType, HeaderNames.IfNoneMatch)
                .WithExposedHeaders(HeaderNames.ETag, HeaderNames.RetryAfter)
                .SetPreflightMaxAge(MaxAge);
        });
    }

    /// <summary>
    /// An origin as browsers write it in <c>Origin</c>, which CORS compares exactly: lower case, an international host in its
    /// ASCII (punycode) form, no default port. <see langword="null"/> for anything that is not an http or https origin.
    /// </summary>
    public static string? Serialize(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https")
            || uri.UserInfo.Length > 0
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0
            || uri.AbsolutePath != "/"
            || origin.EndsWith('/')
            || string.IsNullOrEmpty(uri.Host))
        {
            return null;
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
        return uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{host}:{uri.Port}");
    }
}
