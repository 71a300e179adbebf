// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Http;

/// <summary>Every way a request can be wrong gets its 4xx problem body, and changes nothing.</summary>
public class BadRequestTests(BadRequestTests.Fixture fixture) : IClassFixture<BadRequestTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override string[] Settings => ["Keel:Limits:MaxValueBytes=1024", "Keel:Limits:MaxRequestBodyBytes=8192"];
    }

    readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("{\"config_value\": \"abc\", \"value_type\": \"number\"}", "config_value", "one JSON number")]
    [InlineData("{\"config_value\": \"yes\", \"value_type\": \"boolean\"}", "config_value", "'true' or 'false'")]
    [InlineData("{\"config_value\": \"{oops\", \"value_type\": \"json\"}", "config_value", "valid JSON")]
    [InlineData("{\"config_value\": \"a: [b\", \"value_type\": \"yaml\"}", "config_value", "valid YAML")]
    [InlineData("{\"config_value\": \"1\", \"value_type\": \"integer\"}", "value_type", "must be one of string, number, boolean, json, yaml")]
    [InlineData("{\"config_value\": 42}", "config_value", "must be a JSON string for value_type 'string'")]
    [InlineData("{\"config_value\": {\"a\": 1}, \"value_type\": \"yaml\"}", "config_value", "must be a JSON string")]
    [InlineData("{\"config_value\": true, \"value_type\": \"number\"}", "config_value", "must be a JSON string")]
    [InlineData("{\"config_value\": \"a\\u0000b\"}", "config_value", "U+0000")]
    [InlineData("{\"config_value\": \"\\ud800\"}", "config_value", "unpaired surrogate")]
    [InlineData("{\"config_value\": \"x\\udc00y\", \"value_type\": \"yaml\"}", "config_value", "unpaired surrogate")]
    [InlineData("{\"config_value\": {\"\\ud800\": 1}, \"value_type\": \"json\"}", "config_value", "escaped unpaired surrogate")]
    [InlineData("{\"config_value\": {\"a\": \"\\udbff\"}, \"value_type\": \"json\"}", "config_value", "escaped unpaired surrogate")]
    [InlineData("{\"config_value\": {\"a\": 1, \"a\": 2}, \"value_type\": \"json\"}", "config_value", "repeats a name")]
    [InlineData("{\"config_value\": \"{\\\"a\\\": 1, \\\"a\\\": 2}\", \"value_type\": \"json\"}", "config_value", "repeats a name")]
    [InlineData("{\"config_value\": \"!!str]\", \"value_type\": \"yaml\"}", "config_value", "valid YAML")]
    public async Task Put_Answers422_SayingWhatIsWrong(string body, string field, string reason)
    {
        var path = await ExistingKeyAsync();

        var problem = await (await _client.PutAsync(path, Json(body), Ct)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");

        Assert.Contains(field, problem.ErrorPaths());
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(path);
    }

    [Fact]
    public async Task Put_Answers422_ListingEveryError()
    {
        var path = await ExistingKeyAsync();
        var body = new { config_value = "x", value_type = "nope", change_description = new string('d', 1001), encrypt = true };

        var problem = await (await _client.PutAsync(path, body)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");

        Assert.Equal(["value_type", "change_description"], problem.ErrorPaths());
        await AssertUnchangedAsync(path);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{", "not valid JSON (line 1")]
    [InlineData("{\"config_value\": \"a\",}", "not valid JSON")]
    [InlineData("{\"config_value\": 'a'}", "not valid JSON")]
    [InlineData("[\"config_value\"]", "must be a JSON object, not an array")]
    [InlineData("\"just a string\"", "must be a JSON object, not a string")]
    [InlineData("null", "must be a JSON object, not null")]
    [InlineData("{\"config_value\": \"a\"} trailing", "not valid JSON")]
    [InlineData("{\"config_value\": \"a\", \"config_value\": \"b\"}", "repeats the field 'config_value'")]
    [InlineData("{\"config_value\": \"x\", \"\\ud800\": 1}", "not valid Unicode")]
    [InlineData("{\"config_value\": \"x\", \"value_type\": \"\\udc00\"}", "not valid Unicode")]
    [InlineData("{}", "config_value is required")]
    [InlineData("{\"config_value\": null}", "config_value must not be null")]
    [InlineData("{\"value_type\": \"string\"}", "config_value is required")]
    [InlineData("{\"config_value\": \"a\", \"unknown\": 1}", "'unknown' is not a field")]
    [InlineData("{\"config_value\": \"a\", \"encrypt\": \"yes\"}", "encrypt must be true or false")]
    [InlineData("{\"config_value\": \"a\", \"value_type\": 5}", "value_type must be a string")]
    [InlineData("{\"config_value\": \"a\", \"change_description\": []}", "change_description must be a string")]
    public async Task Put_Answers400_ForMalformedBodies(string body, string reason)
    {
        var path = await ExistingKeyAsync();

        var problem = await (await _client.PutAsync(path, Json(body), Ct)).ProblemAsync(HttpStatusCode.BadRequest, "malformed_request");

        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(path);
    }

    [Fact]
    public async Task Put_AcceptsANativeJsonValueNestedToTheLimit()
    {
        var path = ConfigPath(Service(), "dev", "deep");
        var value = new string('[', 64) + new string(']', 64);

        var response = await _client.PutAsync(path, Json("{\"config_value\": " + value + ", \"value_type\": \"json\"}"), Ct);

        Assert.Equal(value, (await response.OkJsonAsync(HttpStatusCode.Created)).GetProperty("config_value").GetString());
    }

    [Fact]
    public async Task Put_Answers400_ForNestingBeyondTheLimit()
    {
        var path = await ExistingKeyAsync();
        var deep = "{\"config_value\": " + new string('[', 200) + new string(']', 200) + ", \"value_type\": \"json\"}";

        await (await _client.PutAsync(path, Json(deep), Ct)).ProblemAsync(HttpStatusCode.BadRequest, "malformed_request");
        await AssertUnchangedAsync(path);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData(null)]
    public async Task Put_Answers415_ForABodyThatIsNotJson(string? contentType)
    {
        var path = await ExistingKeyAsync();
        var content = new ByteArrayContent("{\"config_value\": \"x\"}"u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        await (await _client.PutAsync(path, content, Ct)).ProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await AssertUnchangedAsync(path);
    }

    [Fact]
    public async Task Put_AcceptsJsonMediaTypesWithSuffixAndCharset()
    {
        var path = ConfigPath(Service(), "dev", "k");
        var problemJson = new StringContent("{\"config_value\": \"x\"}", Encoding.UTF8, "application/merge-patch+json");
        var charset = new StringContent("{\"config_value\": \"y\"}", Encoding.UTF8, "application/json");
        var quoted = new ByteArrayContent("{\"config_value\": \"z\"}"u8.ToArray());
        quoted.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"UTF-8\"");

        Assert.Equal(HttpStatusCode.Created, (await _client.PutAsync(path, problemJson, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync(path, charset, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync(path, quoted, Ct)).StatusCode);
    }

    [Fact]
    public async Task Put_Answers413_ForAValueOverTheLimit_CountingUtf8Bytes()
    {
        var path = await ExistingKeyAsync();

        var atLimit = await _client.PutAsync(ConfigPath(Service(), "dev", "k"), new { config_value = new string('é', 512) });
        var problem = await (await _client.PutAsync(path, new { config_value = new string('é', 513) })).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
        Assert.Contains("MaxValueBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(path);
    }

    [Fact]
    public async Task Put_Answers413_ForABodyOverTheLimit()
    {
        var path = await ExistingKeyAsync();
        var body = "{\"config_value\": \"x\", \"change_description\": \"" + new string('d', 9000) + "\"}";

        var problem = await (await _client.PutAsync(path, Json(body), Ct)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        Assert.Contains("MaxRequestBodyBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(path);
    }

    [Fact]
    public async Task Put_Answers413_ForAChunkedBodyOverTheLimit()
    {
        var path = await ExistingKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, path)
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"config_value\": \"" + new string('x', 20_000) + "\"}"))),
        };
        request.Content.Headers.ContentType = JsonMediaType;
        request.Headers.TransferEncodingChunked = true;

        await (await _client.SendAsync(request, Ct)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await AssertUnchangedAsync(path);
    }

    [Theory]
    [InlineData("Bad", "prod", "k", "service_name")]
    [InlineData("svc", "Prod", "k", "environment")]
    [InlineData("-svc", "prod", "k", "service_name")]
    [InlineData("svc", "prod", "has%20space", "config_key")]
    [InlineData("svc", "prod", "tab%09", "config_key")]
    [InlineData("svc", "prod", "a%2Fb", "config_key")]
    [InlineData("svc", "prod", "a%2fb", "config_key")]
    [InlineData("svc", "prod", "zero%E2%80%8Bwidth", "config_key")]
    [InlineData("svc", "prod", "%FF", "config_key")]
    [InlineData("svc", "prod", "a%C0%AFb", "config_key")]
    [InlineData("svc", "prod", "%ED%A0%80", "config_key")]
    public async Task EveryKeyEndpoint_Answers400_ForAnInvalidName(string service, string environment, string key, string field)
    {
        var path = $"/api/v1/config/{service}/{environment}/{key}";

        var responses = new[]
        {
            await _client.GetAsync(path, Ct),
            await _client.PutAsync(path, new { config_value = "x" }),
            await _client.DeleteAsync(path, Ct),
            await _client.GetAsync(path + "/history", Ct),
            await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }),
        };

        foreach (var response in responses)
        {
            var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
            Assert.Contains(field, problem.ErrorPaths());
        }
    }

    [Theory]
    [InlineData("%zz")]
    [InlineData("%")]
    [InlineData("%4")]
    [InlineData("a%")]
    [InlineData("%g0")]
    [InlineData("50%-off")]
    public async Task EveryKeyEndpoint_Answers400_ForAPercentThatStartsNoEscape(string key)
    {
        // Sent raw: HttpClient would escape such a '%' as %25, which is the one URL the key has.
        var service = Service();
        var path = $"/api/v1/config/{service}/prod/{key}";

        var answers = new[]
        {
            await RawAsync("GET", path),
            await RawAsync("PUT", path, "{\"config_value\": \"x\"}"),
            await RawAsync("DELETE", path),
            await RawAsync("GET", path + "/history"),
            await RawAsync("POST", path + "/rollback", "{\"target_version\": 1}"),
        };

        foreach (var answer in answers)
        {
            var problem = answer.AssertProblem(400, "invalid_name");
            Assert.Equal(["config_key"], problem.ErrorPaths());
            Assert.Contains("'%'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(ConfigPath(service, "prod", key), Ct)).StatusCode);
    }

    [Fact]
    public async Task Put_AddressesAKeyHoldingAPercent_ByItsEscapedUrlOnly()
    {
        var service = Service();

        var put = await RawAsync("PUT", $"/api/v1/config/{service}/prod/%25zz", "{\"config_value\": \"x\"}");
        var get = await RawAsync("GET", $"/api/v1/config/{service}/prod/%25zz");
        var bare = await RawAsync("GET", $"/api/v1/config/{service}/prod/%zz");

        Assert.True(put.Status == 201, put.ToString());
        Assert.True(get.Status == 200, get.ToString());
        using var body = System.Text.Json.JsonDocument.Parse(get.Body);
        Assert.Equal("%zz", body.RootElement.GetProperty("config_key").GetString());
        bare.AssertProblem(400, "invalid_name");
    }

    [Theory]
    [InlineData("PUT", "/api/v1/flags/{service}/prod/%zz", "flag_key")]
    [InlineData("GET", "/api/v1/flags/{service}/prod/%zz", "flag_key")]
    [InlineData("DELETE", "/api/v1/flags/{service}/prod/a%", "flag_key")]
    [InlineData("GET", "/api/v1/flags/{service}/prod/%4/history", "flag_key")]
    [InlineData("POST", "/api/v1/flags/{service}/prod/%g0/rollback", "flag_key")]
    [InlineData("PUT", "/api/v1/schemas/{service}/%zz", "key_pattern")]
    [InlineData("GET", "/api/v1/schemas/{service}/db.%*", "key_pattern")]
    [InlineData("DELETE", "/api/v1/schemas/{service}/%", "key_pattern")]
    [InlineData("POST", "/api/v1/schemas/{service}/%zz/check", "key_pattern")]
    public async Task FlagAndSchemaEndpoints_Answer400_ForAPercentThatStartsNoEscape(string method, string target, string field)
    {
        var body = method is "PUT" or "POST" ? "{}" : "";

        var answer = await RawAsync(method, target.Replace("{service}", Service(), StringComparison.Ordinal), body);

        var problem = answer.AssertProblem(400, "invalid_name");
        Assert.Equal([field], problem.ErrorPaths());
    }

    [Fact]
    public async Task EveryKeyWrite_RefusesAKeyNotInNfc_AndChangesNothing()
    {
        var service = Service();
        const string Decomposed = "cafe\u0301";
        const string Flag = """{"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on"}""";
        var path = ConfigPath(service, "prod", Decomposed);
        var flagPath = $"/api/v1/flags/{service}/prod/{Uri.EscapeDataString(Decomposed)}";
        var before = await RevisionAsync();

        var put = await _client.PutAsync(path, new { config_value = "x" });
        var rollback = await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 });
        var batchSet = await _client.PostAsync(
            "/api/v1/config/batch-set",
            Json(new { service_name = service, environment = "prod", configs = new[] { new { config_key = Decomposed, config_value = "x" } } }),
            Ct);
        var import = await _client.PostAsync($"/api/v1/config/{service}/prod/import", Json(new Dictionary<string, string> { [Decomposed] = "x" }), Ct);
        var flagPut = await _client.PutAsync(flagPath, Json(Flag), Ct);
        var flagRollback = await _client.SendAsync(HttpMethod.Post, flagPath + "/rollback", new { target_version = 1 });
        var flagImport = await _client.PostAsync($"/api/v1/flags/{service}/prod/import", Json("{\"flags\": {\"" + Decomposed + "\": " + Flag + "}}"), Ct);
        var schema = await _client.PutAsync($"/api/v1/schemas/{service}/{Uri.EscapeDataString(Decomposed)}", Json("""{"type": "string"}"""), Ct);
        var schemaPrefix = await _client.PutAsync($"/api/v1/schemas/{service}/{Uri.EscapeDataString(Decomposed)}*", Json("""{"type": "string"}"""), Ct);

        foreach (var (response, field) in new[]
        {
            (put, "config_key"), (rollback, "config_key"), (batchSet, "configs[0].config_key"), (flagPut, "flag_key"), (flagRollback, "flag_key"),
            (schema, "key_pattern"), (schemaPrefix, "key_pattern"),
        })
        {
            var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
            Assert.Equal([field], problem.ErrorPaths());
            Assert.Contains("NFC", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var importProblem = await import.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_file");
        Assert.Contains("NFC", importProblem.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        var flagImportProblem = await flagImport.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Contains("NFC", flagImportProblem.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await RevisionAsync());
        Assert.Equal(HttpStatusCode.Created, (await _client.PutAsync(ConfigPath(service, "prod", "caf\u00e9"), new { config_value = "x" })).StatusCode);
    }

    [Fact]
    public async Task EveryKeyEndpoint_Answers400_ForAKeyOver500Characters()
    {
        var path = ConfigPath(Service(), "prod", new string('k', 501));

        await (await _client.PutAsync(path, new { config_value = "x" })).ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
        await (await _client.GetAsync(path, Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
    }

    [Fact]
    public async Task List_Answers400_ForAnInvalidScope()
    {
        await (await _client.GetAsync("/api/v1/config/Bad/prod", Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
        await (await _client.GetAsync($"/api/v1/config/{new string('s', 101)}/prod", Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
    }

    [Theory]
    [InlineData("If-Match", "3")]
    [InlineData("If-Match", "\"1")]
    [InlineData("If-None-Match", "\"1\"")]
    [InlineData("If-None-Match", "W/\"1\"")]
    public async Task Put_Answers400_ForConditionsKeelDoesNotUnderstand(string header, string value)
    {
        var path = await ExistingKeyAsync();

        await (await _client.SendAsync(HttpMethod.Put, path, new { config_value = "new" }, (header, value))).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await AssertUnchangedAsync(path);
    }

    [Fact]
    public async Task Writes_Answer400_ForContradictoryOrUnsupportedConditions()
    {
        var path = await ExistingKeyAsync();

        await (await _client.SendAsync(HttpMethod.Put, path, new { config_value = "new" }, ("If-Match", "\"1\""), ("If-None-Match", "*"))).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await _client.SendAsync(HttpMethod.Delete, path, null, ("If-None-Match", "*"))).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await _client.SendAsync(HttpMethod.Post, path + "/rollback", new { target_version = 1 }, ("If-None-Match", "*"))).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await AssertUnchangedAsync(path);
    }

    [Theory]
    [InlineData("{}", 400, "malformed_request", "target_version")]
    [InlineData("{\"target_version\": 0}", 400, "invalid_request", "target_version")]
    [InlineData("{\"target_version\": -3}", 400, "invalid_request", "target_version")]
    [InlineData("{\"target_version\": \"1\"}", 400, "malformed_request", "target_version")]
    [InlineData("{\"target_version\": 1.5}", 400, "malformed_request", "target_version")]
    [InlineData("{\"target_version\": 99999999999999999999}", 400, "malformed_request", "target_version")]
    [InlineData("{\"target_version\": 1, \"extra\": true}", 400, "malformed_request", "extra")]
    public async Task Rollback_Answers4xx_ForBadBodies(string body, int status, string code, string field)
    {
        var path = await ExistingKeyAsync();

        var problem = await (await _client.SendAsync(HttpMethod.Post, path + "/rollback", Json(body))).ProblemAsync((HttpStatusCode)status, code);

        Assert.Contains(field, problem.ErrorPaths());
        await AssertUnchangedAsync(path);
    }

    [Theory]
    [InlineData("/api/v1/nothing-here", "GET", 404, "route_not_found")]
    [InlineData("/api/v1/config/svc/prod/k", "PATCH", 405, "method_not_allowed")]
    [InlineData("/api/v1/config/batch", "GET", 405, "method_not_allowed")]
    [InlineData("/api/v1/config/svc/prod/k/history", "POST", 405, "method_not_allowed")]
    public async Task UnknownRoutesAndMethods_AnswerWithProblems(string path, string method, int status, string code)
    {
        await (await _client.SendAsync(new HttpMethod(method), path)).ProblemAsync((HttpStatusCode)status, code);
    }

    [Fact]
    public async Task Problems_CarryATraceIdAndTheRequestPath()
    {
        var problem = await (await _client.GetAsync("/api/v1/config/Bad/prod/k", Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_name");

        Assert.Equal("/api/v1/config/Bad/prod/k", problem.GetProperty("instance").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("trace_id").GetString()));
    }

    [Fact]
    public async Task Problems_NameThePositionOfASyntaxError_WithoutQuotingTheValue()
    {
        var path = await ExistingKeyAsync();

        var response = await _client.PutAsync(path, Json("{\"config_value\": \"{\\\"password\\\": hunter2}\", \"value_type\": \"json\"}"), Ct);

        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid_value");
        Assert.Equal("A json config_value must be valid JSON: it does not parse at line 1, byte 14.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task GarbageRequests_NeverProduce5xx_AndChangeNothing()
    {
        var path = await ExistingKeyAsync();
        var revisionBefore = await RevisionAsync();
        var random = new Random(20261123);
        string[] fragments =
        [
            "{", "}", "[", "]", "\"config_value\"", ":", ",", "\"x\"", "null", "true", "1e400", "\\u0000", "\"value_type\"", "\"json\"",
            "\"yaml\"", "\"number\"", "\"boolean\"", "\uFFFF", "\uD800", "\"\\ud800\"", "\"\\udc00x\"", "\"!!str]\"", "\"... x\"", "\"&a *b\"",
            " ", "\"target_version\"", "-1", "\"config_keys\"", "\"service_name\"", "\"environment\"",
        ];
        string[] targets = [path, path + "/rollback", "/api/v1/config/batch", path + "/history?limit=" + random.Next()];
        string[] methods = ["PUT", "POST", "GET"];

        for (var i = 0; i < 300; i++)
        {
            var body = string.Concat(Enumerable.Range(0, random.Next(0, 12)).Select(_ => fragments[random.Next(fragments.Length)]));
            var response = await _client.SendAsync(new HttpMethod(methods[random.Next(methods.Length)]), targets[random.Next(targets.Length)], Json(body));

            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for body {body}");
        }

        await AssertUnchangedAsync(path);
        Assert.Equal(revisionBefore, await RevisionAsync());
    }

    [Fact]
    public async Task RawHttp_WithInvalidUtf8InTheBody_Answers400()
    {
        var path = await ExistingKeyAsync();
        using var socket = new TcpClient();
        await socket.ConnectAsync(fixture.Server.BaseAddress.Host, fixture.Server.BaseAddress.Port, Ct);
        var stream = socket.GetStream();
        byte[] body = [.. "{\"config_value\": \""u8, 0xC3, 0x28, .. "\"}"u8];
        var head = Encoding.ASCII.GetBytes($"PUT {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TestTokens.Admin}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(head, Ct);
        await stream.WriteAsync(body, Ct);

        using var reader = new StreamReader(stream);
        var answer = await reader.ReadToEndAsync(Ct);

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
        await AssertUnchangedAsync(path);
    }

    [Theory]
    [InlineData("PUT {key}", "FFFFFFFFFFFFFFFFFF")]
    [InlineData("PUT {key}", "FFFFFFFF")]
    [InlineData("PUT {key}", "80000000")]
    [InlineData("PUT {key}", "ZZ")]
    [InlineData("POST {key}/rollback", "FFFFFFFFFFFFFFFFFF")]
    [InlineData("POST /api/v1/config/batch-set", "FFFFFFFFFFFFFFFFFF")]
    [InlineData("POST /api/v1/config/{service}/prod/import", "FFFFFFFFFFFFFFFFFF")]
    [InlineData("PUT /api/v1/flags/{service}/prod/f", "FFFFFFFFFFFFFFFFFF")]
    [InlineData("POST /api/v1/flags/{service}/prod/import", "FFFFFFFFFFFFFFFFFF")]
    [InlineData("PUT /api/v1/schemas/{service}/k", "FFFFFFFFFFFFFFFFFF")]
    public async Task RawHttp_WithAChunkSizeThatDoesNotParse_Answers400(string target, string chunkSize)
    {
        var path = await ExistingKeyAsync();
        var service = path.Split('/')[4];
        var requestLine = target.Replace("{key}", path, StringComparison.Ordinal).Replace("{service}", service, StringComparison.Ordinal);

        var answer = await RawHttp.SendAsync(
            fixture.Server.BaseAddress,
            $"{requestLine} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TestTokens.Admin}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close",
            chunkSize + "\r\n{\"config_value\": \"x\"}\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", answer.StatusLine, StringComparison.Ordinal);
        answer.AssertProblem(400, "malformed_request");
        await AssertUnchangedAsync(path);
    }

    /// <summary>Requests Kestrel refuses while reading the request line and headers, before any middleware runs.</summary>
    public static TheoryData<string, string, int> RefusedByKestrel => new()
    {
        { "a NUL in the path", "GET /api/v1/config/svc/dev/a\0b HTTP/1.1\r\nHost: localhost", 400 },
        { "an escaped NUL in the path", "GET /api/v1/config/svc/dev/a%00b HTTP/1.1\r\nHost: localhost", 400 },
        { "a byte outside ASCII in the path", "GET /api/v1/config/svc/dev/caf\u00E9 HTTP/1.1\r\nHost: localhost", 400 },
        { "a request target that is not a path", "GET api/v1/audit HTTP/1.1\r\nHost: localhost", 400 },
        { "a Host with a space", "GET /healthz HTTP/1.1\r\nHost: bad host", 400 },
        { "a Host with a path", "GET /healthz HTTP/1.1\r\nHost: a/b", 400 },
        { "no Host", "GET /healthz HTTP/1.1", 400 },
        { "two Hosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b", 400 },
        { "a NUL in a header", "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Test: a\0b", 400 },
        { "a request line over 8 KiB", $"GET /api/v1/config/svc/dev/{new string('k', 9000)} HTTP/1.1\r\nHost: localhost", 414 },
        { "headers over 32 KiB", $"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Test: {new string('h', 33_000)}", 431 },
    };

    [Theory]
    [MemberData(nameof(RefusedByKestrel))]
    public async Task RawHttp_RequestsKestrelRefuses_AnswerWithoutABody(string what, string head, int status)
    {
        var answer = await RawHttp.SendAsync(fixture.Server.BaseAddress, $"{head}\r\nAuthorization: Bearer {TestTokens.Admin}\r\nConnection: close");

        Assert.True(answer.Status == status, $"{what}: {answer}");
        Assert.Equal("0", answer.Header("Content-Length"));
        Assert.Null(answer.Header("Content-Type"));
        Assert.Equal("", answer.Body);
    }

    /// <summary>Sends a request as it is, with the admin token, so that the server reads the request target unchanged.</summary>
    Task<RawResponse> RawAsync(string method, string target, string body = "") =>
        RawHttp.SendAsync(
            fixture.Server.BaseAddress,
            $"{method} {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TestTokens.Admin}\r\nContent-Type: application/json\r\n"
                + $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close",
            body);

    async Task<string> ExistingKeyAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var path = ConfigPath(Service(test), "prod", "existing");
        Assert.Equal(HttpStatusCode.Created, (await _client.PutAsync(path, new { config_value = "original" })).StatusCode);
        return path;
    }

    async Task AssertUnchangedAsync(string path)
    {
        var body = await (await _client.GetAsync(path, Ct)).OkJsonAsync();
        Assert.Equal("original", body.GetProperty("config_value").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt64());
        var history = await (await _client.GetAsync(path + "/history", Ct)).OkJsonAsync();
        Assert.Equal(1, history.GetProperty("versions").GetArrayLength());
    }

    async Task<long> RevisionAsync() =>
        (await (await _client.GetAsync("/api/v1/config/nobody/none", Ct)).OkJsonAsync()).GetProperty("revision").GetInt64();
}
