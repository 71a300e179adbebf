// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Keel.Client.Tests.Infrastructure;

/// <summary>A process the test starts (the dotnet CLI, a sample application), its output kept line by line, ended with its children on dispose.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly List<string> _lines = [];
    readonly SemaphoreSlim _lineArrived = new(0);

    ChildProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment.Remove("ASPNETCORE_URLS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var child = new ChildProcess(new Process { StartInfo = start });
        child._process.OutputDataReceived += (_, e) => child.Add(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Add(e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to its end, failing the test when it fails or outlasts <paramref name="timeout"/>.</summary>
    public static async Task RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        await using var child = Start(fileName, arguments, workingDirectory);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await child._process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{fileName} {string.Join(' ', arguments)} ran longer than {timeout}:\n{child.Output}");
        }

        Assert.True(child._process.ExitCode == 0, $"{fileName} {string.Join(' ', arguments)} exited with {child._process.ExitCode}:\n{child.Output}");
    }

    /// <summary>Waits for a line of output that matches <paramref name="pattern"/>, for at most <paramref name="timeout"/>.</summary>
    public async Task<Match> WaitForLineAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (true)
        {
            lock (_lines)
            {
                for (; seen < _lines.Count; seen++)
                {
                    if (regex.Match(_lines[seen]) is { Success: true } match)
                    {
                        return match;
                    }
                }
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || _process.HasExited && !await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken))
            {
                Assert.Fail($"No line matched {pattern} (exited: {_process.HasExited}):\n{Output}");
            }

            await _lineArrived.WaitAsync(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }

        _lineArrived.Release();
    }
}
