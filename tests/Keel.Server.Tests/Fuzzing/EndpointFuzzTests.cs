// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Keel.Core.Audit;
using Keel.Core.Storage;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Fuzzing;

/// <summary>
/// Generated requests to every endpoint, with an admin token so that every handler is reached: bodies of the right shape
/// with wrong values, bodies of any shape, broken text, odd names in the path, odd query strings and conditional headers.
/// No answer is 500 or above, and an answer of 400 or above leaves the store's revision and audit trail as they were.
/// </summary>
public sealed class EndpointFuzzTests(EndpointFuzzTests.Fixture fixture) : IClassFixture<EndpointFuzzTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override string[] Settings => ["Keel:Limits:MaxRequestBodyBytes=65536", "Keel:Limits:MaxValueBytes=16384"];
    }

    /// <summary>
    /// Requests per run; each is checked for its status and, when refused, for having changed nothing. The long-poll is left
    /// out: a generated request to it holds for its whole wait.
    /// </summary>
    const int Iterations = 400;

    static readonly string[] Fields =
    [
        "config_value", "value_type", "encrypt", "change_description", "target_version", "service_name", "environment",
        "config_keys", "configs", "config_key", "name", "kind", "permissions", "scopes", "expires_at", "client_certificate_sha256",
        "webhook_url", "state", "variants", "defaultVariant", "targeting", "context", "targetingKey", "$ref", "type", "properties",
        "pattern", "flags", "metadata", "required", "items", "prune", "format",
    ];

    static readonly string[] Words =
    [
        "", "json", "yaml", "string", "number", "boolean", "read", "write", "secrets:read", "admin", "*/*", "fuzz/*", "fuzz/prod",
        "ENABLED", "DISABLED", "on", "off", "evaluation", "api", "prod", "fuzz", "k", "db.url", "2099-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z", "http://127.0.0.1:1/x", "https://example.com/hook", "{\"a\": 1}", "a: [1, 2", "1e400", "-0",
        "\u0000", "\ud800", "é", "../..", "%2e%2e", "#", "null", "true", new string('x', 300),
    ];

    static readonly Gen<string> Word = Gen.Frequency(
        (4, Gen.OneOf<string>(Words)),
        (1, Gen.Char[' ', '~'].Array[0, 40].Select(c => new string(c))),
        (1, Gen.Char.Array[0, 20].Select(c => new string(c))));

    static readonly Gen<JsonNode?> Scalar = Gen.OneOf<JsonNode?>(
        Gen.Const((JsonNode?)null),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.Long.Select(l => (JsonNode?)JsonValue.Create(l)),
        Gen.Int[-3, 5].Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.Double.Select(d => (JsonNode?)(double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(0.5))),
        Word.Select(w => (JsonNode?)JsonValue.Create(w)));

    static readonly Gen<JsonNode?> Json = Node(3);

    static readonly Gen<string> Body = Gen.Frequency(
        (6, Json.Select(n => n?.ToJsonString() ?? "null")),
        (1, Word),
        (1, Gen.Const<string>(string.Empty)),
        (1, Json.Select(n => (n?.ToJsonString() ?? "null") is var text && text.Length > 2 ? text[..^1] : text)));

    static readonly (HttpMethod Method, string Path)[] Routes =
    [
        (HttpMethod.Put, "/api/v1/config/{s}/{e}/{k}"),
        (HttpMethod.Get, "/api/v1/config/{s}/{e}/{k}"),
        (HttpMethod.Delete, "/api/v1/config/{s}/{e}/{k}"),
        (HttpMethod.Get, "/api/v1/config/{s}/{e}/{k}/history"),
        (HttpMethod.Post, "/api/v1/config/{s}/{e}/{k}/rollback"),
        (HttpMethod.Get, "/api/v1/config/{s}/{e}"),
        (HttpMethod.Post, "/api/v1/config/batch"),
        (HttpMethod.Post, "/api/v1/config/batch-set"),
        (HttpMethod.Post, "/api/v1/config/{s}/{e}/import"),
        (HttpMethod.Get, "/api/v1/config/{s}/{e}/export"),
        (HttpMethod.Get, "/api/v1/search"),
        (HttpMethod.Put, "/api/v1/schemas/{s}/{k}"),
        (HttpMethod.Post, "/api/v1/schemas/{s}/{k}/check"),
        (HttpMethod.Delete, "/api/v1/schemas/{s}/{k}"),
        (HttpMethod.Put, "/api/v1/flags/{s}/{e}/{k}"),
        (HttpMethod.Post, "/api/v1/flags/{s}/{e}/import"),
        (HttpMethod.Get, "/api/v1/flags/{s}/{e}/{k}/history"),
        (HttpMethod.Post, "/api/v1/flags/{s}/{e}/{k}/rollback"),
        (HttpMethod.Post, "/ofrep/v1/evaluate/flags/{k}"),
        (HttpMethod.Post, "/ofrep/v1/evaluate/flags"),
        (HttpMethod.Post, "/api/v1/tokens"),
        (HttpMethod.Delete, "/api/v1/tokens/{k}"),
        (HttpMethod.Get, "/api/v1/audit"),
        (HttpMethod.Post, "/api/v1/config/subscribe"),
        (HttpMethod.Get, "/api/v1/config/subscriptions/{k}/deliveries"),
        (HttpMethod.Post, "/api/v1/config/subscriptions/{k}/deliveries/{k}/redeliver"),
    ];

    static readonly string[] QueryNames =
    [
        "q", "prefix", "service_name", "environment", "value_type", "is_encrypted", "limit", "cursor", "before_version", "format",
        "prune", "dry_run", "since_revision", "keys", "key_prefix", "actor", "action", "since", "until", "before_id",
    ];

    static readonly Gen<string> Query = Gen.Select(Gen.OneOf<string>(QueryNames), Gen.Frequency(
            (3, Gen.OneOf<string>("0", "1", "-1", "1001", "99999999999999999999", "true", "yes", "json", "yaml", "env", "appsettings", "s1:!!", "")),
            (2, Word)))
        .Select((name, value) => $"{name}={Uri.EscapeDataString(value)}")
        .Array[0, 4]
        .Select(parts => parts.Length == 0 ? string.Empty : "?" + string.Join('&', parts));

    static readonly Gen<string> Segment = Gen.Frequency(
        (6, Gen.OneOf<string>("fuzz", "prod", "k", "db.url", "feature")),
        (1, Word.Where(w => w.Length > 0)));

    static readonly Gen<(string Name, string Value)?> Header = Gen.Frequency(
        (2, Gen.Const(default((string Name, string Value)?))),
        (1, Gen.Select(
            Gen.OneOf<string>("If-Match", "If-None-Match", "Content-Type"),
            Gen.OneOf<string>(
                "\"1\"", "*", "W/\"2\"", "garbage", "\"-1\"", "\"99999999999999999999\"", "text/plain", "application/x-yaml",
                "application/json; charset=latin1", "multipart/form-data", "application/json"))
            .Select(static (name, value) => ((string Name, string Value)?)(name, value))));

    static readonly Gen<FuzzRequest> Request = Gen.Select(Gen.Int[0, Routes.Length - 1], Segment, Segment, Segment, Query, Body, Header)
        .Select((route, s, e, k, query, body, header) => new FuzzRequest(
            Routes[route].Method,
            Routes[route].Path.Replace("{s}", Uri.EscapeDataString(s), StringComparison.Ordinal)
                .Replace("{e}", Uri.EscapeDataString(e), StringComparison.Ordinal)
                .Replace("{k}", Uri.EscapeDataString(k), StringComparison.Ordinal) + query,
            body,
            header));

    [Fact]
    public async Task NoRequest_IsAnswered500_AndARefusedOneChangesNothing()
    {
        var lifecycle = fixture.Server.GetRequiredService<IStoreLifecycle>();
        var audit = fixture.Server.GetRequiredService<IAuditStore>();
        var statuses = new Dictionary<int, int>();
        List<string> failures = [];

        // One request at a time, so that a refused request's "nothing changed" is not confused by another's write.
        await Request.SampleAsync(
            async request =>
            {
                var before = await FingerprintAsync(lifecycle, audit);
                using var message = request.ToMessage();
                using var response = await fixture.Client.SendAsync(message, Ct);
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (status >= 500)
                {
                    failures.Add($"{status} for {request}: {await response.Content.ReadAsStringAsync(Ct)}");
                }
                else if (status >= 400 && await FingerprintAsync(lifecycle, audit) != before)
                {
                    failures.Add($"{status} changed the store for {request}");
                }
            },
            iter: Iterations,
            threads: 1);

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(10)));

        // The generator reaches both sides: refusals and successful writes.
        Assert.Contains(statuses.Keys, s => s is >= 200 and < 300);
        Assert.Contains(statuses.Keys, s => s is >= 400 and < 500);
        TestContext.Current.SendDiagnosticMessage(
            "statuses: " + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}×{p.Value}"))));
    }

    [Theory]
    [InlineData("PUT", "/api/v1/config/fuzz/prod/k", """{"config_value": ":\u0000{\rr", "value_type": "yaml"}""")]
    [InlineData("POST", "/api/v1/config/fuzz/prod/import?format=yaml", ":\u0000{\rr")]
    public async Task KeptRequests_StayAnsweredBelow500(string method, string path, string body)
    {
        using var message = new FuzzRequest(new HttpMethod(method), path, body, null).ToMessage();
        using var response = await fixture.Client.SendAsync(message, Ct);

        Assert.InRange((int)response.StatusCode, 200, 499);
    }

    static async Task<(long Revision, long? LastAudit)> FingerprintAsync(IStoreLifecycle lifecycle, IAuditStore audit) =>
        (await lifecycle.GetRevisionAsync(Ct), await audit.QueryAuditAsync(new AuditQuery { Limit = 1 }, Ct) is [var last, ..] ? last.Id : null);

    static Gen<JsonNode?> Node(int depth) => depth == 0
        ? Scalar
        : Gen.Frequency(
            (3, Scalar),
            (2, Gen.Select(Gen.Frequency((4, Gen.OneOf<string>(Fields)), (1, Word)), Node(depth - 1)).Array[0, 6].Select(pairs =>
            {
                var node = new JsonObject();
                foreach (var (name, value) in pairs)
                {
                    node[name] = value;
                }

                return (JsonNode?)node;
            })),
            (1, Node(depth - 1).Array[0, 5].Select(items => (JsonNode?)new JsonArray([.. items]))));

    sealed record FuzzRequest(HttpMethod Method, string Path, string Body, (string Name, string Value)? Header)
    {
        public HttpRequestMessage ToMessage()
        {
            var message = new HttpRequestMessage(Method, Path);
            if (Method != HttpMethod.Get && Method != HttpMethod.Delete)
            {
                message.Content = new StringContent(Body, Encoding.UTF8, "application/json");
            }

            if (Header is { } header)
            {
                if (header.Name == "Content-Type")
                {
                    if (message.Content is not null)
                    {
                        message.Content.Headers.Remove("Content-Type");
                        message.Content.Headers.TryAddWithoutValidation("Content-Type", header.Value);
                    }
                }
                else
                {
                    message.Headers.TryAddWithoutValidation(header.Name, header.Value);
                }
            }

            return message;
        }

        public override string ToString() => $"{Method} {Path} {Header} {Body[..Math.Min(Body.Length, 300)]}";
    }
}
