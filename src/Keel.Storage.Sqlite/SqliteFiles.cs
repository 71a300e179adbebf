// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

/// <summary>The modes of the database's files.</summary>
static class SqliteFiles
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Makes the database's files owner-only before SQLite opens them. SQLite creates a database with mode 0644 less the umask,
    /// and creates its -wal and -shm with the database's mode but keeps the mode of any it finds; so a missing database is
    /// created 0600 here, and an existing one and its companions lose their group and other permissions.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    public static void Protect(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            try
            {
                // Only a missing file is opened here: closing a descriptor of a file that this process has open in SQLite would
                // release SQLite's locks on it.
                new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly })
                    .Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Created meanwhile, which the loop below handles, or not creatable, which SQLite reports as it opens it.
            }
        }

        foreach (var file in (ReadOnlySpan<string>)[path, path + "-wal", path + "-shm", path + "-journal"])
        {
            if (!File.Exists(file))
            {
                continue;
            }

            var mode = File.GetUnixFileMode(file);
            if ((mode & OpenToOthers) == 0)
            {
                continue;
            }

            var shown = Convert.ToString((int)mode, 8).PadLeft(4, '0');
            try
            {
                File.SetUnixFileMode(file, mode & ~OpenToOthers);
                Log.FileMadeOwnerOnly(logger, file, shown);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's file or a read-only mount: the store still opens it, and the warning says what to change.
                Log.FileOpenToOthers(logger, file, shown, e);
            }
        }
    }
}
