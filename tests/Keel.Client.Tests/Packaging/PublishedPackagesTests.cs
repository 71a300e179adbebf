// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Keel.Client.Tests.Infrastructure;
using Keel.Server.Tests.Infrastructure;
using static Keel.Client.Tests.Infrastructure.ClientHarness;

namespace Keel.Client.Tests.Packaging;

/// <summary>
/// The packages as a user gets them: packed from the sources, restored by the samples from a local folder (package
/// references, not project references), and the samples run as processes against a running server.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class PublishedPackagesTests(PublishedPackagesTests.Published fixture) : IClassFixture<PublishedPackagesTests.Published>
{
    [Fact]
    public void EveryPackage_CarriesItsReadme_TheLicence_AndXmlDocs_AndNoServerCode()
    {
        foreach (var package in Published.Packages)
        {
            using var archive = ZipFile.OpenRead(Path.Combine(fixture.PackageFolder, $"{package}.{fixture.Version}.nupkg"));
            var entries = archive.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains("LICENSE", entries);
            Assert.Contains($"lib/net10.0/{package}.dll", entries);
            Assert.Contains($"lib/net10.0/{package}.xml", entries);
            using var nuspec = new StreamReader(archive.GetEntry(package + ".nuspec")!.Open());
            var text = nuspec.ReadToEnd();
            Assert.DoesNotContain("Keel.Server", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Keel.Core", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheWebApp_FollowsAPutThroughIOptionsMonitor_AndAFlagThroughFeatureGate()
    {
        var service = "sample-web-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Server.Client.PutAsync(service, "checkout.maxitems", "5", "number");
        await fixture.Server.Client.PutFlagAsync(service, "new-checkout", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}""");
        await fixture.Server.Client.PutFlagAsync(service, "checkout-theme", """{"state": "ENABLED", "variants": {"dark": "dark", "light": "light"}, "defaultVariant": "dark"}""");

        await using var app = StartSample("WebApp", service, "--urls", "http://127.0.0.1:0");
        var address = new Uri((await app.WaitForLineAsync(@"Now listening on: (http://127\.0\.0\.1:\d+)", TimeSpan.FromSeconds(60))).Groups[1].Value);
        using var http = new HttpClient { BaseAddress = address };

        Assert.Equal(5, (await GetJsonAsync(http, "/checkout")).GetProperty("maxItems").GetInt32());
        using (var gated = await http.GetAsync("/checkout/v2", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, gated.StatusCode);
        }

        await fixture.Server.Client.PutAsync(service, "checkout.maxitems", "7", "number");
        await app.WaitForLineAsync("Checkout options changed: MaxItems=7", TimeSpan.FromSeconds(10));
        Assert.Equal(7, (await GetJsonAsync(http, "/checkout")).GetProperty("maxItems").GetInt32());

        await fixture.Server.Client.PutFlagAsync(service, "new-checkout", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}""");
        await EventuallyAsync(() => http.GetAsync("/checkout/v2", Ct).GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK, "the flag to open the gate");
        Assert.Equal("dark", (await GetJsonAsync(http, "/checkout/v2")).GetProperty("theme").GetString());
        Assert.Equal("Healthy", (await http.GetStringAsync("/health", Ct)).Trim());
    }

    [Fact]
    public async Task TheWorker_FollowsASettingAndAFlag_WithoutARestart()
    {
        var service = "sample-worker-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Server.Client.PutAsync(service, "billing.batchsize", "100", "number");
        await fixture.Server.Client.PutAsync(service, "billing.interval", "00:00:00.200");
        await fixture.Server.Client.PutFlagAsync(service, "express-billing", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}""");

        await using var worker = StartSample("Worker", service);
        await worker.WaitForLineAsync("Billing pass: BatchSize=100, express=False", TimeSpan.FromSeconds(60));

        await fixture.Server.Client.PutAsync(service, "billing.batchsize", "250", "number");
        await worker.WaitForLineAsync("Billing options changed: BatchSize=250", TimeSpan.FromSeconds(10));
        await fixture.Server.Client.PutFlagAsync(service, "express-billing", """{"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}""");
        await worker.WaitForLineAsync("Flags changed at revision \\d+: express-billing", TimeSpan.FromSeconds(10));
        await worker.WaitForLineAsync("Billing pass: BatchSize=250, express=True", TimeSpan.FromSeconds(10));
    }

    ChildProcess StartSample(string sample, string service, params string[] arguments) =>
        ChildProcess.Start(
            "dotnet",
            [Path.Combine(fixture.Work, "out", sample, sample + ".dll"), "--Keel:Url=" + fixture.Server.BaseAddress, "--Keel:Token=" + TestTokens.Admin, "--Keel:Service=" + service, .. arguments],
            Path.Combine(fixture.Work, "out", sample));

    static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(path, Ct));
        return document.RootElement.Clone();
    }

    /// <summary>The packages packed with a version of their own, and the samples built against them, once for the class.</summary>
    public sealed class Published : IAsyncLifetime
    {
        public static readonly string[] Packages = ["Keel.Flags", "Keel.Client", "Keel.Client.FeatureManagement"];

        static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

        readonly string _work = Path.Combine(Path.GetTempPath(), "keel-published-tests", Guid.NewGuid().ToString("N"));

        // A version of its own for every run, so that restore never takes a package an earlier run left in the NuGet cache.
        readonly string _version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

        public KeelTestServer Server { get; private set; } = null!;

        public string Work => _work;

        public string Version => _version;

        public string PackageFolder => Path.Combine(_work, "packages");

        public async ValueTask InitializeAsync()
        {
            Directory.CreateDirectory(_work);
            Server = await KeelTestServer.StartAsync();
            var root = RepositoryRoot();
            foreach (var package in Packages)
            {
                await ChildProcess.RunAsync(
                    "dotnet",
                    ["pack", Path.Combine(root, "src", package, package + ".csproj"), "-o", PackageFolder, "-p:Version=" + _version, "-p:ArtifactsPath=" + Path.Combine(_work, "artifacts")],
                    root,
                    BuildTimeout);
            }

            // The samples are built outside the repository, as an application that only knows the packages would be.
            CopyDirectory(Path.Combine(root, "samples"), Path.Combine(_work, "samples"));
            foreach (var sample in new[] { "WebApp", "Worker" })
            {
                await ChildProcess.RunAsync(
                    "dotnet",
                    ["build", Path.Combine(_work, "samples", sample), "-o", Path.Combine(_work, "out", sample), "-p:KeelVersion=" + _version, "-p:RestoreAdditionalProjectSources=" + PackageFolder],
                    _work,
                    BuildTimeout);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            try
            {
                Directory.Delete(_work, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        static string RepositoryRoot()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Keel.slnx")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("The tests run from outside the repository: no Keel.slnx above " + AppContext.BaseDirectory);
        }

        static void CopyDirectory(string from, string to)
        {
            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(from, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
                {
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
                File.Copy(file, Path.Combine(to, relative));
            }
        }
    }
}
