// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Security;

/// <summary>Every endpoint, called with each kind of token, inside and outside the token's scope, answers the exact status.</summary>
public sealed class PermissionMatrixTests(PermissionMatrixTests.Fixture fixture) : IClassFixture<PermissionMatrixTests.Fixture>
{
    const string Service = "matrix-svc";
    const string InScope = "dev";
    const string OutOfScope = "prod";

    public sealed class Fixture : ServerFixture
    {
        public Dictionary<string, HttpClient> Clients { get; } = [];

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Clients["none"] = Server.CreateClient(null);
            Clients["unknown"] = Server.CreateClient("keel_not-a-token-that-exists-anywhere-at-all");
            foreach (var permission in new[] { "read", "write", "secrets:read", "admin" })
            {
                Clients[permission] = await Server.CreateTokenClientAsync([permission], [$"{Service}/{InScope}"], permission + "-token");
            }

            using var evaluation = await Client.PostAsync(
                "/api/v1/tokens", Json(new { name = "evaluation-token", kind = "evaluation", service_name = Service, environment = InScope }), Ct);
            Clients["evaluation"] = Server.CreateClient((await evaluation.OkJsonAsync(HttpStatusCode.Created)).GetProperty("token").GetString());
        }
    }

    /// <summary>An endpoint: the permission it requires, whether it is scoped to a service and environment, and its success status.</summary>
    public sealed record Endpoint(string Name, string? Permission, bool Scoped, HttpStatusCode Success);

    static readonly Endpoint[] Endpoints =
    [
        new("GET key", "read", true, HttpStatusCode.OK),
        new("HEAD key", "read", true, HttpStatusCode.OK),
        new("GET scope", "read", true, HttpStatusCode.OK),
        new("POST batch", "read", true, HttpStatusCode.OK),
        new("GET history", "read", true, HttpStatusCode.OK),
        new("PUT key", "write", true, HttpStatusCode.OK),
        new("DELETE key", "write", true, HttpStatusCode.OK),
        new("POST rollback", "write", true, HttpStatusCode.OK),
        new("POST tokens", "admin", false, HttpStatusCode.Created),
        new("GET tokens", "admin", false, HttpStatusCode.OK),
        new("DELETE token", "admin", false, HttpStatusCode.NoContent),
        new("GET audit", "admin", false, HttpStatusCode.OK),
        new("GET keys", "admin", false, HttpStatusCode.OK),
        new("POST rotate", "admin", false, HttpStatusCode.OK),
        new("POST rewrap", "admin", false, HttpStatusCode.OK),
        new("GET cache stats", "admin", false, HttpStatusCode.OK),
        new("GET openapi", null, false, HttpStatusCode.OK),
        new("GET unknown route", null, false, HttpStatusCode.NotFound),
        new("GET healthz", "anonymous", false, HttpStatusCode.OK),
        new("GET readyz", "anonymous", false, HttpStatusCode.OK),
    ];

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var token in new[] { "none", "unknown", "read", "write", "secrets:read", "admin", "evaluation" })
            {
                data.Add(endpoint.Name, token, true);
                if (endpoint.Scoped)
                {
                    data.Add(endpoint.Name, token, false);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Endpoint_AnswersTheExactStatus_ForEachTokenAndScope(string endpointName, string token, bool inScope)
    {
        var endpoint = Endpoints.Single(e => e.Name == endpointName);
        var environment = inScope ? InScope : OutOfScope;
        var key = $"{endpointName.Replace(' ', '-').ToLowerInvariant()}.{token.Replace(':', '-')}.{environment}";
        var path = ConfigPath(Service, environment, key);
        Assert.Equal(HttpStatusCode.Created, (await fixture.Client.PutAsync(path, new { config_value = "v" })).StatusCode);
        string? revocable = null;
        if (endpointName == "DELETE token")
        {
            using var created = await fixture.Client.PostAsync("/api/v1/tokens", Json(new { name = "doomed", permissions = new[] { "read" }, scopes = new[] { "*/*" } }), Ct);
            revocable = (await created.OkJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        }

        using var request = endpointName switch
        {
            "GET key" => new HttpRequestMessage(HttpMethod.Get, path),
            "HEAD key" => new HttpRequestMessage(HttpMethod.Head, path),
            "GET scope" => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/config/{Service}/{environment}"),
            "POST batch" => new HttpRequestMessage(HttpMethod.Post, "/api/v1/config/batch")
            {
                Content = Json(new { service_name = Service, environment, config_keys = new[] { key } }),
            },
            "GET history" => new HttpRequestMessage(HttpMethod.Get, path + "/history"),
            "PUT key" => new HttpRequestMessage(HttpMethod.Put, path) { Content = Json(new { config_value = "w" }) },
            "DELETE key" => new HttpRequestMessage(HttpMethod.Delete, path),
            "POST rollback" => new HttpRequestMessage(HttpMethod.Post, path + "/rollback") { Content = Json(new { target_version = 1 }) },
            "POST tokens" => new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens")
            {
                Content = Json(new { name = "made", permissions = new[] { "read" }, scopes = new[] { "*/*" } }),
            },
            "GET tokens" => new HttpRequestMessage(HttpMethod.Get, "/api/v1/tokens"),
            "DELETE token" => new HttpRequestMessage(HttpMethod.Delete, "/api/v1/tokens/" + revocable),
            "GET audit" => new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit?limit=1"),
            "GET keys" => new HttpRequestMessage(HttpMethod.Get, "/api/v1/admin/keys"),
            "POST rotate" => new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/keys/rotate"),
            "POST rewrap" => new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/keys/rewrap"),
            "GET cache stats" => new HttpRequestMessage(HttpMethod.Get, "/api/v1/cache/stats"),
            "GET openapi" => new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json"),
            "GET unknown route" => new HttpRequestMessage(HttpMethod.Get, "/api/v1/nothing-here"),
            "GET healthz" => new HttpRequestMessage(HttpMethod.Get, "/healthz"),
            "GET readyz" => new HttpRequestMessage(HttpMethod.Get, "/readyz"),
            _ => throw new ArgumentOutOfRangeException(nameof(endpointName)),
        };

        using var response = await fixture.Clients[token].SendAsync(request, Ct);

        var expected = Expected(endpoint, token, inScope);
        Assert.True(expected == response.StatusCode, $"{endpointName} with {token} token {(inScope ? "in" : "out of")} scope: expected {(int)expected}, got {(int)response.StatusCode}");
        if (expected is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden && request.Method != HttpMethod.Head)
        {
            var problem = await response.ProblemAsync(expected, expected == HttpStatusCode.Unauthorized ? "unauthorized" : "forbidden");
            if (expected == HttpStatusCode.Forbidden && endpoint.Permission is { } permission && token is not "evaluation" && !Has(token, permission))
            {
                Assert.Equal(permission, problem.GetProperty("missing_permission").GetString());
            }
        }

        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    static HttpStatusCode Expected(Endpoint endpoint, string token, bool inScope)
    {
        if (endpoint.Permission == "anonymous")
        {
            return endpoint.Success;
        }

        if (token is "none" or "unknown")
        {
            return HttpStatusCode.Unauthorized;
        }

        if (token == "evaluation" || (endpoint.Permission is { } permission && !Has(token, permission)))
        {
            return HttpStatusCode.Forbidden;
        }

        return endpoint.Scoped && !inScope ? HttpStatusCode.Forbidden : endpoint.Success;
    }

    static bool Has(string token, string permission) => token == "admin" || token == permission;
}
