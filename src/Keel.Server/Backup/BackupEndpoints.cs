// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Globalization;
using Keel.Core;
using Keel.Core.Storage;
using Keel.Server.Http;
using Keel.Server.Security;
using Keel.Server.Storage;

namespace Keel.Server.Backup;

/// <summary>An online backup of the whole store, under <c>/api/v1/admin/backup</c>; admin only.</summary>
static class BackupEndpoints
{
    public const string MediaType = "application/vnd.sqlite3";

    public static IEndpointRouteBuilder MapBackupEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/admin/backup", BackupAsync)
            .WithTags("Backup")
            .WithName("Backup")
            .RequireAuthorization(KeelPolicies.Admin)
            .WithSummary("Answers a consistent copy of the SQLite database, taken while reads and writes go on; encrypted values stay encrypted.");
        return endpoints;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000:Dispose objects before losing scope", Justification = "The file result disposes of the stream once it is sent, which deletes the copy.")]
    static async Task<IResult> BackupAsync(
        HttpContext httpContext, IKeelStore store, DataDirectory dataDirectory, TimeProvider timeProvider, ILogger<BackupFile> logger,
        CancellationToken cancellationToken)
    {
        var backup = store.Backup ?? throw new KeelException(
            KeelError.BackupNotSupported,
            "This server's backend has no online backup of its own: back PostgreSQL up with pg_dump (see docs/deployment.md).");

        // The copy is made in the data folder, which is owner-only and on the database's file system, and goes away once sent.
        var path = dataDirectory.PathOf($"backup-{Guid.NewGuid():N}.db");
        await backup.BackupAsync(path, cancellationToken);
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read | FileShare.Delete,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        });

        // Unlinked at once where an open file may lose its name, so that no copy outlives the answer, not even when the
        // process dies while sending it; elsewhere it goes when the answer closes it.
        if (!OperatingSystem.IsWindows())
        {
            File.Delete(path);
        }

        var actor = httpContext.Actor();
        Log.BackupTaken(logger, file.Length, actor.Name);
        var name = string.Create(CultureInfo.InvariantCulture, $"keel-{timeProvider.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}.db");
        return TypedResults.File(file, MediaType, name);
    }

    /// <summary>The category of the backup's log lines.</summary>
    sealed class BackupFile;
}
