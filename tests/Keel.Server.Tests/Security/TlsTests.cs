// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Security;

/// <summary>HTTPS from PEM files, their reload, client certificates against a CA bundle, and tokens bound to a certificate.</summary>
public sealed class TlsTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("keel-tls-tests").FullName;
    readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("Keel test CA");
    readonly TestCertificateAuthority _otherCa = TestCertificateAuthority.Create("Someone else's CA");
    readonly List<KeelTestServer> _servers = [];

    [Fact]
    public async Task Https_ServesThePemCertificate_AndTheRenewedOneOnceTheFilesChange()
    {
        var first = _ca.IssueServer("first");
        var server = await StartAsync(first, "None");
        List<X509Certificate2> seen = [];

        using (var client = _ca.CreateClient(server.BaseAddress, null, TestTokens.Admin, seen))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/cache/stats", Ct)).StatusCode);
        }

        Assert.Equal("https", server.BaseAddress.Scheme);
        Assert.Equal(first.Thumbprint, Assert.Single(seen).Thumbprint);

        var renewed = _ca.IssueServer("renewed");
        TestCertificateAuthority.WritePem(renewed, _folder, "server");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (seen[^1].Thumbprint != renewed.Thumbprint && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
            using var client = _ca.CreateClient(server.BaseAddress, null, null, seen);
            await client.GetAsync("/healthz", Ct);
        }

        Assert.Equal(renewed.Thumbprint, seen[^1].Thumbprint);
    }

    [Fact]
    public async Task Https_KeepsTheLastGoodCertificate_WhenTheFilesChangeToSomethingUnreadable()
    {
        var first = _ca.IssueServer("first");
        var server = await StartAsync(first, "None");
        File.WriteAllText(Path.Combine(_folder, "server.key"), "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        await Task.Delay(500, Ct);
        List<X509Certificate2> seen = [];

        using var client = _ca.CreateClient(server.BaseAddress, null, null, seen);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", Ct)).StatusCode);
        Assert.Equal(first.Thumbprint, Assert.Single(seen).Thumbprint);
    }

    [Fact]
    public async Task RequiredClientCertificates_FailTheHandshake_WithoutOneTheCaVouchesFor()
    {
        var server = await StartAsync(_ca.IssueServer("server"), "Require");

        await AssertHandshakeFailsAsync(server, null);
        await AssertHandshakeFailsAsync(server, _otherCa.IssueClient("stranger"));
        await AssertHandshakeFailsAsync(server, _ca.IssueServerOnly("not for clients"));

        using var client = _ca.CreateClient(server.BaseAddress, _ca.IssueClient("service-a"), TestTokens.Admin);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/cache/stats", Ct)).StatusCode);
    }

    [Fact]
    public async Task AllowedClientCertificates_AreOptional_ButAnUntrustedOneFailsTheHandshake()
    {
        var server = await StartAsync(_ca.IssueServer("server"), "Allow");

        using (var anonymous = _ca.CreateClient(server.BaseAddress, null, TestTokens.Admin))
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/v1/cache/stats", Ct)).StatusCode);
        }

        using (var trusted = _ca.CreateClient(server.BaseAddress, _ca.IssueClient("service-a"), TestTokens.Admin))
        {
            Assert.Equal(HttpStatusCode.OK, (await trusted.GetAsync("/api/v1/cache/stats", Ct)).StatusCode);
        }

        await AssertHandshakeFailsAsync(server, _otherCa.IssueClient("stranger"));
    }

    [Fact]
    public async Task ABoundToken_AuthenticatesOnlyOverAConnectionPresentingItsCertificate()
    {
        var server = await StartAsync(_ca.IssueServer("server"), "Allow");
        var own = _ca.IssueClient("service-a");
        var other = _ca.IssueClient("service-b");
        using var admin = _ca.CreateClient(server.BaseAddress, null, TestTokens.Admin);
        var openSslFingerprint = string.Join(':', Convert.ToHexString(own.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(c => new string(c)));
        var created = await (await admin.PostAsync(
            "/api/v1/tokens",
            Json(new { name = "bound", permissions = new[] { "read" }, scopes = new[] { "*/*" }, client_certificate_sha256 = openSslFingerprint }),
            Ct)).OkJsonAsync(HttpStatusCode.Created);
        var token = created.GetProperty("token").GetString()!;
        var sha256 = Convert.ToHexStringLower(own.GetCertHash(HashAlgorithmName.SHA256));
        Assert.Equal(sha256, created.GetProperty("client_certificate_sha256").GetString());
        var path = ConfigPath(Service(), "prod", "k");

        using (var withoutCertificate = _ca.CreateClient(server.BaseAddress, null, token))
        {
            var problem = await (await withoutCertificate.GetAsync(path, Ct)).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
            Assert.Contains("bound to a client certificate", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var withAnotherCertificate = _ca.CreateClient(server.BaseAddress, other, token))
        {
            await (await withAnotherCertificate.GetAsync(path, Ct)).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var withItsCertificate = _ca.CreateClient(server.BaseAddress, own, token))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await withItsCertificate.GetAsync(path, Ct)).StatusCode);
        }

        var listed = (await (await admin.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync()).GetProperty("tokens").EnumerateArray()
            .Single(t => t.GetProperty("id").GetString() == created.GetProperty("id").GetString());
        Assert.Equal(sha256, listed.GetProperty("client_certificate_sha256").GetString());
    }

    [Fact]
    public async Task BindingATokenToACertificate_IsRefused_WhenItCouldNeverBeUsed()
    {
        await using var plain = await KeelTestServer.StartAsync();
        var before = (await (await plain.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync()).GetProperty("tokens").GetArrayLength();

        var malformed = await (await plain.Client.PostAsync(
            "/api/v1/tokens",
            Json(new { name = "bound", permissions = new[] { "read" }, scopes = new[] { "*/*" }, client_certificate_sha256 = "abc" }),
            Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var withoutClientCertificates = await (await plain.Client.PostAsync(
            "/api/v1/tokens",
            Json(new { name = "bound", permissions = new[] { "read" }, scopes = new[] { "*/*" }, client_certificate_sha256 = new string('a', 64) }),
            Ct)).ProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        Assert.Contains("64 hex digits", malformed.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Keel:Tls:ClientCertificates", withoutClientCertificates.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await (await plain.Client.GetAsync("/api/v1/tokens", Ct)).OkJsonAsync()).GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public async Task Start_Fails_NamingTheSetting_WhenTheFilesCannotServe()
    {
        var (certificate, _) = TestCertificateAuthority.WritePem(_ca.IssueServer("server"), _folder, "server");
        var garbage = Path.Combine(_folder, "garbage.key");
        File.WriteAllText(garbage, "not a key");

        var unreadable = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(
            null, "urls=https://127.0.0.1:0", $"Keel:Tls:CertificateFile={certificate}", $"Keel:Tls:KeyFile={garbage}"));
        var withoutCa = await Assert.ThrowsAnyAsync<Exception>(() => KeelTestServer.StartAsync(
            null, "urls=https://127.0.0.1:0", $"Keel:Tls:CertificateFile={certificate}", "Keel:Tls:ClientCertificates=Require"));

        Assert.Contains("Keel:Tls", unreadable.ToString(), StringComparison.Ordinal);
        Assert.Contains("Keel:Tls:ClientCaFile", withoutCa.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _ca.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    async Task<KeelTestServer> StartAsync(X509Certificate2 certificate, string clientCertificates)
    {
        var (certificatePath, keyPath) = TestCertificateAuthority.WritePem(certificate, _folder, "server");
        string[] settings =
        [
            "urls=https://127.0.0.1:0",
            $"Keel:Tls:CertificateFile={certificatePath}",
            $"Keel:Tls:KeyFile={keyPath}",
            $"Keel:Tls:ClientCertificates={clientCertificates}",
            .. clientCertificates == "None" ? Array.Empty<string>() : [$"Keel:Tls:ClientCaFile={_ca.WriteTo(_folder)}"],
            "Keel:Tls:ReloadCheckInterval=00:00:00.1",
        ];
        var server = await KeelTestServer.StartAsync(null, settings);
        _servers.Add(server);
        return server;
    }

    async Task AssertHandshakeFailsAsync(KeelTestServer server, X509Certificate2? clientCertificate)
    {
        using var client = _ca.CreateClient(server.BaseAddress, clientCertificate, TestTokens.Admin);

        // Under TLS 1.3 the client finishes its side before the server judges the certificate, so the refusal can surface as
        // the connection closing on the first request rather than in the handshake itself.
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/api/v1/cache/stats", Ct));
    }
}
