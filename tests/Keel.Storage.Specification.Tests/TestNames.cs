// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

namespace Keel.Storage.Specification.Tests;

/// <summary>Service names no other test uses, so that tests sharing a store never read each other's writes.</summary>
public static class TestNames
{
    static int _counter;

    /// <summary>A service name made from the calling test's name and a process-wide counter.</summary>
    public static string Service([CallerMemberName] string test = "")
    {
        var prefix = new string(test.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').Take(70).ToArray());
        return $"{prefix}-{Interlocked.Increment(ref _counter)}-{Environment.ProcessId}";
    }
}
