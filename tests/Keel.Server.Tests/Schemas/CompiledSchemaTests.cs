// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Text.Json;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Schemas;

/// <summary>
/// Schemas crafted to make validation take forever: patterns that backtrack exponentially, references that never end,
/// alternatives that multiply. Each must be answered at once, with a 4xx where it cannot be checked, and leave the server up.
/// </summary>
public sealed class CompiledSchemaTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    // Every request here finishes in milliseconds once bounded; unbounded, each would run for minutes or crash the server.
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Check_WithAPatternThatBacktracksExponentially_AnswersAtOnce_ForAReadToken()
    {
        var service = Service();
        await _client.PutValueAsync(service, "prod", "db.host", "db-host-name-01");
        using var reader = await fixture.Server.CreateTokenClientAsync(["read"], [$"{service}/*"]);

        using var response = await SendPatientlyAsync(
            reader, HttpMethod.Post, $"/api/v1/schemas/{service}/db.host/check", """{"type": "string", "pattern": "^(.|.|.|.|.)*\\u0000$"}""");

        var body = await response.OkJsonAsync();
        var violation = Assert.Single(body.GetProperty("violations").EnumerateArray());
        Assert.Equal("db.host", violation.GetProperty("config_key").GetString());
        Assert.Equal("Pattern mismatch.", violation.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Put_UnderANestedQuantifierPattern_IsJudgedAtOnce()
    {
        var service = Service();
        await PutSchemaAsync(service, "name", """{"type": "string", "pattern": "^(a+)+$"}""");

        using var refused = await SendPatientlyAsync(_client, HttpMethod.Put, ConfigPath(service, "dev", "name"), Value(new string('a', 40) + "!"));
        using var accepted = await SendPatientlyAsync(_client, HttpMethod.Put, ConfigPath(service, "dev", "name"), Value("aaaa"));

        var problem = await refused.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        Assert.Equal(["$.config_value"], problem.ErrorPaths());
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    [Fact]
    public async Task Put_UnderAPatternOnlyBacktrackingCanRun_StopsAtTheMatchTimeout_AndWritesNothing()
    {
        var service = Service();

        // A lookahead keeps the pattern off the non-backtracking engine.
        await PutSchemaAsync(service, "name", """{"type": "string", "pattern": "^(?=a)(a+)+$"}""");

        using var refused = await SendPatientlyAsync(_client, HttpMethod.Put, ConfigPath(service, "dev", "name"), Value(new string('a', 40) + "!"));
        using var missing = await _client.GetAsync(ConfigPath(service, "dev", "name"), Ct);
        using var accepted = await SendPatientlyAsync(_client, HttpMethod.Put, ConfigPath(service, "dev", "name"), Value("aaaa"));
        using var mismatched = await SendPatientlyAsync(_client, HttpMethod.Put, ConfigPath(service, "dev", "name"), Value("baaa"));

        var problem = await refused.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_too_complex");
        Assert.Contains("PatternMatchTimeout", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        await mismatched.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
    }

    [Fact]
    public async Task PatternProperties_AreMatchedWithoutBacktracking_AndDecideWhichPropertiesAreAdditional()
    {
        var service = Service();
        await PutSchemaAsync(
            service,
            "limits",
            """{"type": "object", "properties": {"total": {"type": "integer"}}, "patternProperties": {"^(a+)+$": {"type": "integer"}}, "additionalProperties": false}""");

        var path = ConfigPath(service, "dev", "limits");
        using var valid = await SendPatientlyAsync(_client, HttpMethod.Put, path, Json("""{"config_value": {"aaaa": 1, "total": 2}, "value_type": "json"}"""));
        using var wrongType = await SendPatientlyAsync(_client, HttpMethod.Put, path, Json("""{"config_value": {"aaaa": "x"}, "value_type": "json"}"""));
        using var additional = await SendPatientlyAsync(
            _client, HttpMethod.Put, path, Json($$"""{"config_value": {"{{new string('a', 40)}}!": 1}, "value_type": "json"}"""));

        Assert.Equal(HttpStatusCode.Created, valid.StatusCode);
        Assert.Equal(["$.config_value.aaaa"], (await wrongType.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation")).ErrorPaths());
        var problem = await additional.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_violation");
        Assert.Equal("No additional properties allowed.", problem.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("""{"definitions": {"x": {"not": {"$ref": "#/definitions/x"}}}, "properties": {"a": {"$ref": "#/definitions/x"}}}""")]
    [InlineData("""{"anyOf": [{"$ref": "#"}]}""")]
    public async Task Check_WithASchemaThatRefersToItselfWithoutEnd_Answers422_AndTheServerStaysUp(string schema)
    {
        var service = Service();
        using var put = await _client.PutAsync(ConfigPath(service, "prod", "settings"), new { config_value = """{"a": 1}""", value_type = "json" });
        put.EnsureSuccessStatusCode();

        using var response = await SendPatientlyAsync(_client, HttpMethod.Post, $"/api/v1/schemas/{service}/settings/check", schema);
        using var health = await _client.GetAsync("/healthz", Ct);

        await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_too_complex");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Put_UnderAlternativesThatMultiply_StopsAtTheStepBudget()
    {
        var service = Service();

        // Each level offers two alternatives that both lead to the next: 2^24 paths, none of which a number satisfies.
        var definitions = Enumerable.Range(0, 24)
            .Select(i => $$"""  "d{{i}}": {"anyOf": [{"$ref": "#/definitions/d{{i + 1}}"}, {"$ref": "#/definitions/d{{i + 1}}"}]}""")
            .Append("""  "d24": {"type": "string"}""");
        await PutSchemaAsync(service, "n", $$"""{"definitions": { {{string.Join(",", definitions)}} }, "allOf": [{"$ref": "#/definitions/d0"}]}""");

        using var refused = await SendPatientlyAsync(_client, HttpMethod.Put, ConfigPath(service, "dev", "n"), Json("""{"config_value": "1", "value_type": "number"}"""));

        var problem = await refused.ProblemAsync(HttpStatusCode.UnprocessableEntity, "schema_too_complex");
        Assert.Contains("Keel:Schemas:MaxValidationSteps", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    async Task PutSchemaAsync(string service, string pattern, string schema)
    {
        using var response = await _client.PutAsync($"/api/v1/schemas/{service}/{pattern}", Json(schema), Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    static StringContent Value(string value) => Json(JsonSerializer.Serialize(new { config_value = value }));

    static async Task<HttpResponseMessage> SendPatientlyAsync(HttpClient client, HttpMethod method, string path, object body)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience);
        using var request = new HttpRequestMessage(method, path) { Content = body as HttpContent ?? Json((string)body) };
        return await client.SendAsync(request, timeout.Token);
    }
}
