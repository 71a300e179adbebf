// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using Keel.Client.Configuration;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;
using TestHttp = Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Client.Tests.Infrastructure;

/// <summary>Builds configurations over a real Keel server, and waits for what a background loop does.</summary>
public static class ClientHarness
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A configuration with one Keel provider reading <paramref name="service"/>/prod with the admin token.</summary>
    public static ConfigurationRoot Build(Uri server, string service, Action<KeelConfigurationOptions>? configure = null, bool optional = false, string token = TestTokens.Admin) =>
        new ConfigurationBuilder()
            .AddKeel(
                o =>
                {
                    o.Connect(server, token).Select(service, "prod").ConfigureStartup(s => s.MinDelayBeforeFailure = TimeSpan.Zero);
                    configure?.Invoke(o);
                },
                optional)
            .Build()
            .AsRoot();

    public static ConfigurationRoot AsRoot(this IConfigurationRoot configuration) => (ConfigurationRoot)configuration;

    public static KeelConfigurationProvider Keel(this IConfigurationRoot configuration) =>
        configuration.Providers.OfType<KeelConfigurationProvider>().Single();

    /// <summary>Counts the reloads of <paramref name="configuration"/> from now on.</summary>
    public static Func<int> CountReloads(IConfiguration configuration)
    {
        var count = 0;
        ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref count));
        return () => Volatile.Read(ref count);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, for at most <paramref name="timeout"/> (10 s by default).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("Timed out waiting for " + what);
            }

            await Task.Delay(20, Ct);
        }
    }

    /// <summary>Waits long enough for a change that should not come to have come, had it been sent.</summary>
    public static Task QuietAsync() => Task.Delay(TimeSpan.FromMilliseconds(600), Ct);

    public static async Task PutAsync(this HttpClient client, string service, string key, string value, string type = "string", bool encrypt = false)
    {
        using var response = await client.PutAsync(
            TestHttp.ConfigPath(service, "prod", key), new { config_value = value, value_type = type, encrypt });
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
    }

    public static async Task PutFlagAsync(this HttpClient client, string service, string key, string definition, string environment = "prod")
    {
        using var response = await client.PutAsync($"/api/v1/flags/{service}/{environment}/{key}", TestHttp.Json(definition), Ct);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
    }

    public static async Task DeleteAsync(this HttpClient client, string service, string key)
    {
        using var response = await client.DeleteAsync(TestHttp.ConfigPath(service, "prod", key), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// Binds the port of a server that has stopped without listening on it, so that connections to it stay refused and no
    /// other test's server, started meanwhile, takes the port and answers in its place.
    /// </summary>
    public static IDisposable HoldPort(Uri address)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            // The stopped server's connections linger in TIME_WAIT; address reuse lets the bind through them, never past a listener.
            socket.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, address.Port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Deletes a test's folder; a client's cache writer that is finishing a write may add a file meanwhile, so it tries again.</summary>
    public static void DeleteDirectory(string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (attempt < 10)
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>A loopback address nothing listens on.</summary>
    public static Uri Unreachable()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
