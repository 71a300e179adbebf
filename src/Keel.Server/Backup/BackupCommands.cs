// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Hosting;
using Keel.Server.Storage;
using Keel.Storage.Sqlite;
using Microsoft.Extensions.Options;

namespace Keel.Server.Backup;

/// <summary>
/// The server's <c>backup</c> and <c>restore</c> commands for the SQLite backend. The rest of the command line configures
/// them as it does the server (<c>--data-dir</c>, <c>KEEL_DATA_DIR</c>, <c>Keel:Storage:Sqlite:FileName</c>), so that they find
/// the database the server uses.
/// </summary>
static class BackupCommands
{
    const string Usage = """
        Usage:
          Keel.Server backup --output <file> [--data-dir <folder>]   copy the database, also while a server runs on it
          Keel.Server restore --input <file> [--data-dir <folder>]   put a backup into a data folder that holds no database
        """;

    /// <summary>Runs the command <paramref name="args"/> name, if they name one; <see langword="null"/> when they do not.</summary>
    public static async Task<int?> TryRunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args is not [("backup" or "restore") and var command, .. var rest])
        {
            return null;
        }

        var option = command == "backup" ? "--output" : "--input";
        var at = Array.IndexOf(rest, option);
        if (at < 0 || at + 1 >= rest.Length || string.IsNullOrWhiteSpace(rest[at + 1]))
        {
            await error.WriteLineAsync($"{command} needs {option} <file>.\n{Usage}");
            return 2;
        }

        var file = Path.GetFullPath(rest[at + 1]);
        string[] settings = [.. rest[..at], .. rest[(at + 2)..]];
        try
        {
            await using var app = KeelHost.Build(settings);
            var provider = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider;
            if (provider != StorageOptions.SqliteProvider)
            {
                await error.WriteLineAsync($"The {command} command is for the SQLite backend; this configuration uses {provider}. Back PostgreSQL up with pg_dump and pg_restore (docs/deployment.md).");
                return 2;
            }

            var dataDirectory = app.Services.GetRequiredService<DataDirectory>();
            var database = dataDirectory.PathOf(app.Services.GetRequiredService<IOptions<SqliteStorageOptions>>().Value.FileName);
            if (command == "backup")
            {
                await SqliteStore.BackupAsync(database, file, cancellationToken);
                await output.WriteLineAsync($"Backed up {database} to {file}. It holds encrypted values encrypted: keep the master key, apart from it, to read them.");
            }
            else
            {
                var version = await RestoreAsync(dataDirectory, database, file, cancellationToken);
                await output.WriteLineAsync($"Restored {file} (schema version {version}) into {database}. Start the server on {dataDirectory.FullPath} with the master key the backup was made under.");
            }

            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException or OptionsValidationException)
        {
            await error.WriteLineAsync($"{command} failed: {e.Message}");
            return 1;
        }
    }

    static async Task<long> RestoreAsync(DataDirectory dataDirectory, string database, string backup, CancellationToken cancellationToken)
    {
        // Holding the folder's lock keeps a server from starting on it halfway, and refuses a folder a server holds.
        dataDirectory.Acquire();
        try
        {
            return await SqliteStore.RestoreBackupAsync(backup, database, cancellationToken);
        }
        finally
        {
            dataDirectory.Dispose();
        }
    }
}
