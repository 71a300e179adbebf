// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Http;

/// <summary>Large answers compressed with Brotli or gzip when the client asks; single keys, problems and streams never.</summary>
public sealed class CompressionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task AListingHistoryExportAndFlagFile_AreCompressed_WhenTheClientAsks_AndDecompressToTheSameBytes(string encoding)
    {
        var service = Service();
        await fixture.Client.PostAsync("/api/v1/config/batch-set", Json(new
        {
            service_name = service,
            environment = "prod",
            configs = Enumerable.Range(0, 200).Select(i => new { config_key = $"feature.setting.{i:D3}", config_value = $"value number {i}" }),
        }), Ct);
        for (var i = 0; i < 40; i++)
        {
            await fixture.Client.PutAsync(
                $"/api/v1/flags/{service}/prod/flag-{i:D2}", Json("""{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}"""), Ct);
        }

        foreach (var path in new[]
        {
            $"/api/v1/flags/{service}/prod",
            $"/api/v1/config/{service}/prod",
            $"/api/v1/config/{service}/prod/export?format=yaml",
            $"/api/v1/search?prefix=feature.setting&service_name={service}",
        })
        {
            var plain = await GetAsync(path, null);
            var compressed = await GetAsync(path, encoding);
            Assert.Empty(plain.Encodings);
            Assert.Equal([encoding], compressed.Encodings);
            Assert.Contains("Accept-Encoding", compressed.Vary);
            Assert.True(compressed.Body.Length * 3 < plain.Body.Length, $"{path}: {compressed.Body.Length} of {plain.Body.Length} bytes");
            Assert.Equal(plain.Body, Decompress(compressed.Body, encoding));
        }
    }

    [Fact]
    public async Task ASingleKey_IsNeverCompressed_HoweverLargeItsValue()
    {
        var service = Service();
        await fixture.Client.PutValueAsync(service, "prod", "big", new string('x', 100_000));

        var answer = await GetAsync(ConfigPath(service, "prod", "big"), "br, gzip");

        Assert.Empty(answer.Encodings);
        Assert.True(answer.Body.Length > 100_000);
    }

    [Fact]
    public async Task CompressionOff_AnswersEveryListingAsItIs()
    {
        await using var server = await KeelTestServer.StartAsync(null, "Keel:Compression:Enabled=false");
        var service = Service();
        await server.Client.PutValueAsync(service, "prod", "k", new string('x', 5_000));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/config/{service}/prod");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));

        using var response = await server.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    async Task<(byte[] Body, ICollection<string> Encodings, string Vary)> GetAsync(string path, string? acceptEncoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        using var response = await fixture.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsByteArrayAsync(Ct), response.Content.Headers.ContentEncoding.ToList(), string.Join(",", response.Headers.Vary));
    }

    static byte[] Decompress(byte[] body, string encoding)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = encoding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }
}
