// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Keel.Server.Security;
using Microsoft.Extensions.Options;

namespace Keel.Server.Storage;

/// <summary>
/// The data folder, held with an exclusive lock for the server's lifetime: the cache trusts that no other process changes the
/// store behind its back, so a second server on the same folder must fail at start rather than serve stale values.
/// </summary>
/// <remarks>
/// On Unix the folder is created owner-only (0700) and every file the server keeps in it is owner-only (0600), also when the
/// folder already exists (a volume, a packaged directory) and whatever the umask. A folder that is open to its group or others
/// is used with a warning rather than refused or changed: it may be a mount point or shared on purpose, and the files in it
/// are protected either way.
/// </remarks>
sealed class DataDirectory(IOptions<DataOptions> options, ILogger<DataDirectory> logger) : IDisposable
{
    const string LockFileName = "keel.lock";

    /// <summary>The files the server itself keeps in the folder; the SQLite store protects its own.</summary>
    static readonly string[] ServerFiles = [LockFileName, SecurityOptions.AdminTokenFileName, EncryptionOptions.GeneratedKeyFileName];

    FileStream? _lock;

    public string FullPath { get; } = Path.GetFullPath(options.Value.DataDir);

    public string PathOf(string fileName) => Path.Combine(FullPath, fileName);

    public void Acquire()
    {
        if (_lock is not null)
        {
            return;
        }

        var lockOptions = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(FullPath);
        }
        else
        {
            PrepareFolder();
            lockOptions.UnixCreateMode = OwnerOnlyFiles.File;
        }

        try
        {
            _lock = new FileStream(PathOf(LockFileName), lockOptions);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The data folder '{FullPath}' is in use by another Keel server. Stop it, or pick another folder with --data-dir.", e);
        }

        if (!OperatingSystem.IsWindows())
        {
            // Once locked, so that a server refused above changes nothing of the one that holds the folder.
            foreach (var fileName in ServerFiles)
            {
                OwnerOnlyFiles.Restrict(PathOf(fileName), logger);
            }
        }

        Log.DataDirectoryLocked(logger, FullPath);
    }

    [UnsupportedOSPlatform("windows")]
    void PrepareFolder()
    {
        if (!Directory.Exists(FullPath))
        {
            Directory.CreateDirectory(FullPath, OwnerOnlyFiles.Folder);
            return;
        }

        var mode = File.GetUnixFileMode(FullPath);
        if ((mode & OwnerOnlyFiles.OpenToOthers) != 0)
        {
            Log.DataDirectoryOpenToOthers(logger, FullPath, OwnerOnlyFiles.Format(mode));
        }
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
