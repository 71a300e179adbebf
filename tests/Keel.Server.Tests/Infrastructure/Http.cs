// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Keel.Storage.Specification.Tests;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>Small helpers for talking JSON to the server and checking its answers.</summary>
public static class Http
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A service name no other test uses.</summary>
    public static string Service([CallerMemberName] string test = "") => TestNames.Service(test);

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(object body) => Json(JsonSerializer.Serialize(body));

    public static Task<HttpResponseMessage> PutAsync(this HttpClient client, string path, object body) =>
        client.PutAsync(path, Json(body), Ct);

    /// <summary>Sets a string value and returns the answer's body, which carries the change's revision.</summary>
    public static async Task<JsonElement> PutValueAsync(this HttpClient client, string service, string environment, string key, string value)
    {
        using var response = await client.PutAsync(ConfigPath(service, environment, key), new { config_value = value });
        Assert.True(response.IsSuccessStatusCode, $"PUT answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        return await response.ReadJsonAsync();
    }

    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string path, object? body = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = body as HttpContent ?? Json(body);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request, Ct);
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts a 2xx answer with a JSON body and returns the body.</summary>
    public static async Task<JsonElement> OkJsonAsync(this HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        if (response.StatusCode != status)
        {
            Assert.Fail($"Expected {(int)status} but got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        }

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.ReadJsonAsync();
    }

    /// <summary>Asserts an RFC 7807 problem with the status and code, and returns the body.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(
            response.Headers.TryGetValues("X-Request-Id", out var requestIds) && !string.IsNullOrEmpty(requestIds.Single()),
            "A problem answer carries X-Request-Id, as every answer does.");
        using var document = JsonDocument.Parse(text);
        var problem = document.RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("urn:keel:problem:" + code, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    public static IReadOnlyList<string> ErrorPaths(this JsonElement problem) =>
        problem.TryGetProperty("errors", out var errors) ? errors.EnumerateArray().Select(e => e.GetProperty("path").GetString()!).ToList() : [];

    public static string? ETag(this HttpResponseMessage response) => response.Headers.ETag?.ToString();

    public static string ConfigPath(string service, string environment, string key) =>
        $"/api/v1/config/{service}/{environment}/{Uri.EscapeDataString(key)}";

    public static MediaTypeHeaderValue JsonMediaType { get; } = new("application/json");
}
