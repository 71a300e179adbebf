// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Faults;

/// <summary>
/// The SQLite data folder on a file system of 32 MiB (tmpfs) that a filler file brings to a few hundred kilobytes of free
/// space while a writer adds 16 KB values and a reader reads a cached key. Mounting needs root; without it the test is
/// skipped, except under CI (<c>CI</c> set), where it must run and fails instead.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class SqliteDiskFullTests
{
    const long FreeLeft = 512 * 1024;

    [Fact]
    public async Task AFullDisk_Answers503_KeepsReads_CorruptsNothing_AndWritesRecoverOnceSpaceIsFreed()
    {
        await using var disk = await SmallDisk.MountAsync();
        var dataDir = Directory.CreateDirectory(Path.Combine(disk.Folder, "data")).FullName;
        var filler = Path.Combine(disk.Folder, "filler");
        var service = Service();
        var cachedPath = ConfigPath(service, "prod", "cached");
        var value = new string('v', 16 * 1024);
        WriteAndReadLoad load;
        await using (var server = await StartAsync(dataDir))
        {
            await server.Client.PutValueAsync(service, "prod", "cached", "steady");
            (await server.Client.GetAsync(cachedPath, Ct)).Dispose();

            load = new WriteAndReadLoad(server.Client, service, cachedPath, i => i + value);
            var running = load.RunAsync();
            await load.AcknowledgedAtLeastAsync(10, TimeSpan.FromSeconds(30));
            await FillAsync(filler, disk.Folder);
            await load.RefusedAtLeastAsync(5, TimeSpan.FromSeconds(60));
            var whileFull = load.Acknowledged.Count;

            // Acknowledged writes stay readable from the database itself while the disk is full, not only from the cache.
            await load.AllAcknowledgedReadBackAsync(server.Client);

            File.Delete(filler);
            await load.AcknowledgedAtLeastAsync(whileFull + 10, TimeSpan.FromSeconds(60));
            await load.StopAsync(running);

            Assert.Empty(load.Unexpected);
            Assert.True(load.CachedReads > 10, $"only {load.CachedReads} cached reads were made");
            server.Terminate();
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "keel.db")};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", await check.ExecuteScalarAsync(Ct));
        }

        // Every acknowledged write is there after a restart.
        await using var restarted = await StartAsync(dataDir);
        await load.AllAcknowledgedReadBackAsync(restarted.Client);
    }

    static Task<KeelServerProcess> StartAsync(string dataDir) =>
        KeelServerProcess.StartAsync(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir]);

    /// <summary>Writes a file until the file system has <see cref="FreeLeft"/> bytes or fewer left.</summary>
    static async Task FillAsync(string path, string folder)
    {
        var chunk = new byte[64 * 1024];
        Random.Shared.NextBytes(chunk);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        while (new DriveInfo(folder).AvailableFreeSpace > FreeLeft)
        {
            await file.WriteAsync(chunk, Ct);
            await file.FlushAsync(Ct);
        }
    }

    /// <summary>A tmpfs of 32 MiB mounted on a temporary folder, unmounted and removed on dispose.</summary>
    sealed class SmallDisk : IAsyncDisposable
    {
        SmallDisk(string folder) => Folder = folder;

        public string Folder { get; }

        public static async Task<SmallDisk> MountAsync()
        {
            var folder = Directory.CreateTempSubdirectory("keel-disk-").FullName;
            try
            {
                var (code, _, error) = await Command.RunAsync("mount", ["-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", folder], folder, TimeSpan.FromSeconds(30), Ct);
                if (code == 0)
                {
                    return new SmallDisk(folder);
                }

                Directory.Delete(folder);
                SkipUnlessCi("mount -t tmpfs failed: " + error.Trim());
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Directory.Delete(folder);
                SkipUnlessCi("mount is not installed: " + e.Message);
            }

            throw new UnreachableException();
        }

        public async ValueTask DisposeAsync()
        {
            var (code, _, error) = await Command.RunAsync("umount", ["-l", Folder], Path.GetTempPath(), TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.True(code == 0, $"umount {Folder} failed: {error}");
            Directory.Delete(Folder, recursive: true);
        }

        static void SkipUnlessCi(string reason)
        {
            Assert.False(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")), reason);
            Assert.Skip(reason);
        }
    }
}
