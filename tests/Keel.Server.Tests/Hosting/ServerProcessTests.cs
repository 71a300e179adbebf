// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Keel.Server.Tests.Infrastructure;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Hosting;

/// <summary>The server binary as operators run it: configured by its environment, stopped by a signal.</summary>
[Collection(SoakCollection.Name)]
public class ServerProcessTests
{
    [Fact]
    public async Task KeelDataDir_PicksTheDataFolder_AndDataDirArgumentWinsOverIt()
    {
        var fromEnvironment = KeelTestServer.NewDataDir();
        var fromArgument = KeelTestServer.NewDataDir();
        try
        {
            var environment = new Dictionary<string, string> { ["KEEL_DATA_DIR"] = fromEnvironment };
            await using (var server = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0"], environment))
            {
                Assert.Equal(HttpStatusCode.Created, (await server.Client.PutAsync(ConfigPath("svc", "prod", "k"), new { config_value = "v" })).StatusCode);
            }

            await using (var server = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", fromArgument], environment))
            {
                Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync(ConfigPath("svc", "prod", "k"), Ct)).StatusCode);
            }

            Assert.True(File.Exists(Path.Combine(fromEnvironment, "keel.db")));
            Assert.True(File.Exists(Path.Combine(fromArgument, "keel.db")));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(fromEnvironment);
            KeelTestServer.DeleteDataDir(fromArgument);
        }
    }

    [Fact]
    public async Task RelativeDataDir_ResolvesAgainstTheWorkingDirectory()
    {
        var workingDirectory = KeelTestServer.NewDataDir();
        Directory.CreateDirectory(workingDirectory);
        try
        {
            await using (var server = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0"], workingDirectory: workingDirectory))
            {
                Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/readyz", Ct)).StatusCode);
            }

            Assert.True(File.Exists(Path.Combine(workingDirectory, "keel-data", "keel.db")));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(workingDirectory);
        }
    }

    [Fact]
    public async Task Sigterm_LetsInFlightWritesFinish_AndLosesNothingAcknowledged()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var service = Service();
        var acknowledged = new ConcurrentDictionary<string, long>();
        try
        {
            await using (var server = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir]))
            {
                // A write whose body is still arriving when the signal comes: graceful shutdown must wait for it.
                var slowBody = new TrickleContent("{\"config_value\": \"", "written during shutdown\"}");
                var slowWrite = server.Client.PutAsync(ConfigPath(service, "prod", "slow"), slowBody, Ct);
                await slowBody.FirstPartSent.WaitAsync(TimeSpan.FromSeconds(10), Ct);

                using var stopWriters = new CancellationTokenSource();
                var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
                {
                    for (var i = 1; !stopWriters.IsCancellationRequested; i++)
                    {
                        var key = $"w{w}";
                        try
                        {
                            var response = await server.Client.PutAsync(ConfigPath(service, "prod", key), new { config_value = i.ToString(CultureInfo.InvariantCulture) });
                            if (response.IsSuccessStatusCode)
                            {
                                acknowledged[key] = (await response.ReadJsonAsync()).GetProperty("version").GetInt64();
                            }
                        }
                        catch (HttpRequestException)
                        {
                            // Refused once the server stops accepting: not acknowledged, so nothing is owed.
                        }
                    }
                }, Ct)).ToArray();

                await Task.Delay(300, Ct);
                server.Terminate();
                await Task.Delay(300, Ct);
                slowBody.SendRest();

                var slowResponse = await slowWrite;
                Assert.Equal(HttpStatusCode.Created, slowResponse.StatusCode);
                Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
                await stopWriters.CancelAsync();
                await Task.WhenAll(writers);
                Assert.Contains("Application is shutting down", server.Output, StringComparison.Ordinal);
            }

            Assert.NotEmpty(acknowledged);
            await using var restarted = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir]);
            var slow = await (await restarted.Client.GetAsync(ConfigPath(service, "prod", "slow"), Ct)).OkJsonAsync();
            Assert.Equal("written during shutdown", slow.GetProperty("config_value").GetString());
            foreach (var (key, version) in acknowledged)
            {
                var body = await (await restarted.Client.GetAsync(ConfigPath(service, "prod", key), Ct)).OkJsonAsync();
                Assert.True(body.GetProperty("version").GetInt64() >= version, $"{key}: acknowledged {version}, found {body.GetProperty("version")}");
                var history = await (await restarted.Client.GetAsync(ConfigPath(service, "prod", key) + $"/history?limit=1&before_version={version + 1}", Ct)).OkJsonAsync();
                Assert.Equal(version, history.GetProperty("versions")[0].GetProperty("version").GetInt64());
            }
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact]
    public async Task Sigkill_LosesNothingAcknowledged_AndTheServerStartsAgain()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var service = Service();
        var acknowledged = new ConcurrentDictionary<string, long>();
        try
        {
            await using (var server = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir]))
            {
                await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
                {
                    for (var i = 1; i <= 25; i++)
                    {
                        var key = $"w{w}-k{i % 5}";
                        var response = await server.Client.PutAsync(ConfigPath(service, "prod", key), new { config_value = i.ToString(CultureInfo.InvariantCulture) });
                        acknowledged[key] = (await response.ReadJsonAsync()).GetProperty("version").GetInt64();
                    }
                }, Ct)));

                server.Kill();
            }

            await using var restarted = await KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir]);
            Assert.Equal(40, acknowledged.Count);
            foreach (var (key, version) in acknowledged)
            {
                var body = await (await restarted.Client.GetAsync(ConfigPath(service, "prod", key), Ct)).OkJsonAsync();
                Assert.Equal(version, body.GetProperty("version").GetInt64());
            }
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    /// <summary>A request body sent in two parts, the second only when the test says so.</summary>
    sealed class TrickleContent : HttpContent
    {
        readonly string _first;
        readonly string _rest;
        readonly TaskCompletionSource _firstSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly TaskCompletionSource _sendRest = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TrickleContent(string first, string rest)
        {
            _first = first;
            _rest = rest;
            Headers.ContentType = JsonMediaType;
        }

        public Task FirstPartSent => _firstSent.Task;

        public void SendRest() => _sendRest.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(_first));
            await stream.FlushAsync();
            _firstSent.TrySetResult();
            await _sendRest.Task;
            await stream.WriteAsync(Encoding.UTF8.GetBytes(_rest));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = Encoding.UTF8.GetByteCount(_first) + Encoding.UTF8.GetByteCount(_rest);
            return true;
        }
    }
}
