// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (initdb in a temporary folder, on a free loopback port), which the test may stop and
/// start again without touching the shared server the other tests use. It needs PostgreSQL's programs (Debian's postgresql
/// package); without them the tests are skipped, except under CI (<c>CI</c> set), where they must run and fail instead.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    readonly string _bin;
    readonly string _folder;
    readonly int _port;

    PrivatePostgres(string bin, string folder, int port)
    {
        _bin = bin;
        _folder = folder;
        _port = port;
    }

    /// <summary>A connection string to the server's <c>postgres</c> database, as its superuser.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={_port.ToString(CultureInfo.InvariantCulture)};Username=keel;Database=postgres;Timeout=5";

    /// <summary>Why these tests are skipped here, or <see langword="null"/> when they run.</summary>
    public static string? SkipReason =>
        FindBin() is not null || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
            ? null
            : "These tests run a PostgreSQL server of their own and need its programs (initdb, pg_ctl: Debian's postgresql package).";

    /// <summary>Creates and starts a server.</summary>
    public static async Task<PrivatePostgres> StartAsync(CancellationToken cancellationToken)
    {
        var bin = FindBin() ?? throw new InvalidOperationException("CI is set, so these tests must run, but PostgreSQL's initdb and pg_ctl are not installed.");
        var folder = Path.Combine(Path.GetTempPath(), "keel-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var server = new PrivatePostgres(bin, folder, FreePort());
        try
        {
            if (IsRoot)
            {
                // PostgreSQL refuses to run as root, so its folder belongs to the postgres user, and so do its processes.
                await server.RunAsync("chown", ["postgres", folder], cancellationToken);
            }

            await server.RunPostgresAsync(
                "initdb", ["-D", server.DataFolder, "-U", "keel", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], cancellationToken);
            await server.StartAgainAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    string DataFolder => Path.Combine(_folder, "data");

    static bool IsRoot => Environment.UserName == "root";

    /// <summary>Starts the stopped server again, on the same port and data.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken) =>
        RunPostgresAsync(
            "pg_ctl",
            [
                "-D", DataFolder, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "60",
                "-o", $"-p {_port.ToString(CultureInfo.InvariantCulture)} -h 127.0.0.1 -k {_folder} -c fsync=off -c max_connections=200",
                "start",
            ],
            cancellationToken);

    /// <summary>Stops the server the way an operator's restart does: sessions are ended and the server shuts down cleanly.</summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        RunPostgresAsync("pg_ctl", ["-D", DataFolder, "-m", "fast", "-w", "-t", "60", "stop"], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataFolder, "postmaster.pid")))
        {
            try
            {
                await RunPostgresAsync("pg_ctl", ["-D", DataFolder, "-m", "immediate", "-w", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    Task RunPostgresAsync(string program, IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        IsRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. args], cancellationToken)
            : RunAsync(Path.Combine(_bin, program), args, cancellationToken);

    async Task RunAsync(string program, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (code, output, error) = await Command.RunAsync(program, args, _folder, TimeSpan.FromSeconds(90), cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({code}):\n{output}\n{error}");
        }
    }

    static string? FindBin()
    {
        const string Debian = "/usr/lib/postgresql";
        if (!Directory.Exists(Debian))
        {
            return null;
        }

        return Directory.GetDirectories(Debian)
            .Select(d => (Folder: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(d => File.Exists(Path.Combine(d.Folder, "initdb")) && File.Exists(Path.Combine(d.Folder, "pg_ctl")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Folder)
            .FirstOrDefault();
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
