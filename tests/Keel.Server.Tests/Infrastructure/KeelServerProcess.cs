// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Keel.Server.Tests.Infrastructure;

/// <summary>The Keel server as its own process (<c>dotnet Keel.Server.dll</c>), for what only a process shows: signals and environment.</summary>
public sealed partial class KeelServerProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly List<string> _output = [];
    string? _adminToken;

    KeelServerProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public int ExitCode => _process.ExitCode;

    /// <summary>The process id, for reading its figures under <c>/proc</c>.</summary>
    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static async Task<KeelServerProcess> StartAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var server = Launch(args, environment, workingDirectory);
        try
        {
            await server.ListeningAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Starts the process without waiting for it to listen, for a test that acts while it starts.</summary>
    public static KeelServerProcess Launch(
        IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Keel.Server.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("KEEL_DATA_DIR");
        start.Environment["KEEL_ADMIN_TOKEN"] = TestTokens.Admin;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            // An empty value removes the variable, so that a test can start the server without one.
            if (value.Length == 0)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new KeelServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnOutput(e.Data);
        process.Exited += (_, _) => server._listening.TrySetException(new InvalidOperationException("The server exited before it listened:\n" + server.Output));
        server._adminToken = start.Environment.TryGetValue("KEEL_ADMIN_TOKEN", out var admin) ? admin : null;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits until the server listens, then sets <see cref="BaseAddress"/> and <see cref="Client"/>.</summary>
    public async Task ListeningAsync()
    {
        BaseAddress = await _listening.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Client ??= new HttpClient { BaseAddress = BaseAddress };
        Client.DefaultRequestHeaders.Authorization = new("Bearer", _adminToken);
    }

    /// <summary>Waits for a line of output that holds <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline && !_process.HasExited, $"No line held \"{text}\" (exited: {_process.HasExited}):\n{Output}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Sends SIGTERM, as a container runtime or systemd does to stop a service.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed with exit code {kill.ExitCode}.");
        }
    }

    /// <summary>Sends SIGKILL: the process ends at once, as in a crash or an out-of-memory kill.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
    }

    void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }

        var match = ListeningLine().Match(line);
        if (match.Success)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
