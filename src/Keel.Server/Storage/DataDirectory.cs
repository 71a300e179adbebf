// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Options;

namespace Keel.Server.Storage;

/// <summary>
/// The data folder, held with an exclusive lock for the server's lifetime: the cache trusts that no other process changes the
/// store behind its back, so a second server on the same folder must fail at start rather than serve stale values.
/// </summary>
sealed class DataDirectory(IOptions<DataOptions> options, ILogger<DataDirectory> logger) : IDisposable
{
    const string LockFileName = "keel.lock";

    FileStream? _lock;

    public string FullPath { get; } = Path.GetFullPath(options.Value.DataDir);

    public string PathOf(string fileName) => Path.Combine(FullPath, fileName);

    public void Acquire()
    {
        if (_lock is not null)
        {
            return;
        }

        if (!Directory.Exists(FullPath))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(FullPath);
            }
            else
            {
                Directory.CreateDirectory(FullPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        try
        {
            _lock = new FileStream(PathOf(LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The data folder '{FullPath}' is in use by another Keel server. Stop it, or pick another folder with --data-dir.", e);
        }

        Log.DataDirectoryLocked(logger, FullPath);
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
