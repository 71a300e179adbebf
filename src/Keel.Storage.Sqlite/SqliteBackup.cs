// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Keel.Storage.Sqlite;

/// <summary>Online copies of a database file, and the check a copy passes before a server is started on it.</summary>
static class SqliteBackup
{
    public static async Task CopyAsync(string databasePath, string destinationPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        if (!File.Exists(databasePath))
        {
            throw new FileNotFoundException($"There is no database at '{databasePath}'.", databasePath);
        }

        // VACUUM INTO writes into an empty file as it finds it, so the file is made owner-only before a byte is in it.
        CreateOwnerOnly(destinationPath);
        try
        {
            var connection = new SqliteConnection(ConnectionString(databasePath));
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                using var vacuum = connection.CreateCommand();
                vacuum.CommandText = "VACUUM INTO @destination;";
                vacuum.Parameters.AddWithValue("@destination", Path.GetFullPath(destinationPath));
                await vacuum.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            File.Delete(destinationPath);
            throw;
        }
    }

    public static async Task<long> VerifyAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"There is no file at '{path}'.");
        }

        try
        {
            var connection = new SqliteConnection(ConnectionString(path));
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                using var check = connection.CreateCommand();
                check.CommandText = "PRAGMA integrity_check;";
                var integrity = Convert.ToString(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                if (integrity != "ok")
                {
                    throw new InvalidDataException($"'{path}' fails SQLite's integrity check: {integrity}");
                }

                check.CommandText = "SELECT COALESCE(MAX(version), 0) FROM keel_schema_migrations;";
                return Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }
        }
        catch (SqliteException e)
        {
            throw new InvalidDataException($"'{path}' is not a Keel database: {e.Message}", e);
        }
    }

    public static async Task<long> RestoreAsync(string backupPath, string databasePath, CancellationToken cancellationToken)
    {
        var version = await VerifyAsync(backupPath, cancellationToken).ConfigureAwait(false);
        if (File.Exists(databasePath) || File.Exists(databasePath + "-wal"))
        {
            throw new IOException($"{databasePath} already exists: restore into a data folder that holds no database.");
        }

        // Copied beside the database and moved into place, so that a restore cut short leaves no half database to start on.
        var partial = databasePath + ".restoring";
        File.Delete(partial);
        CreateOwnerOnly(partial);
        var source = new FileStream(backupPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        await using (source.ConfigureAwait(false))
        {
            var target = new FileStream(partial, FileMode.Truncate, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (target.ConfigureAwait(false))
            {
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
                target.Flush(flushToDisk: true);
            }
        }

        File.Move(partial, databasePath);
        return version;
    }

    static string ConnectionString(string path) =>
        new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();

    static void CreateOwnerOnly(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        new FileStream(path, options).Dispose();
    }
}
