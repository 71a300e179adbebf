// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Runtime.Versioning;

namespace Keel.Server.Storage;

/// <summary>
/// Unix permissions for what the server keeps on disk: tokens, keys and the store are its user's alone, whatever the umask and
/// whoever made the folder they are in.
/// </summary>
[UnsupportedOSPlatform("windows")]
static class OwnerOnlyFiles
{
    public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Takes the group's and others' permissions off an existing file. A file Keel cannot change (another user's, or on a
    /// read-only mount such as a mounted secret) is logged and left, since refusing to start over it would break installs
    /// that chose it.
    /// </summary>
    public static void Restrict(string path, ILogger logger)
    {
        if (!System.IO.File.Exists(path))
        {
            return;
        }

        var mode = System.IO.File.GetUnixFileMode(path);
        if ((mode & OpenToOthers) == 0)
        {
            return;
        }

        try
        {
            System.IO.File.SetUnixFileMode(path, mode & ~OpenToOthers);
            Log.FileMadeOwnerOnly(logger, path, Format(mode));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            Log.FileOpenToOthers(logger, path, Format(mode), e);
        }
    }

    /// <summary>A mode as <c>chmod</c> takes it: <c>0755</c>.</summary>
    public static string Format(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
