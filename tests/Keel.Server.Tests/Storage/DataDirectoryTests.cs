// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using Keel.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Keel.Server.Tests.Infrastructure.Http;

namespace Keel.Server.Tests.Storage;

/// <summary>
/// Every file the server keeps in its data folder is its user's alone, whatever the umask and whoever made the folder: a
/// volume or a packaged directory already exists, usually 0755.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryTests
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    static readonly string[] ServerFiles = ["keel.db", "keel.db-wal", "keel.db-shm", "keel.lock", "master.key", "admin.token"];

    static readonly Dictionary<string, UnixFileMode?> AllOwnerOnly = ServerFiles.ToDictionary(file => file, _ => (UnixFileMode?)OwnerOnly);

    public static bool OnWindows => OperatingSystem.IsWindows();

    [Fact(Skip = "Unix file modes", SkipWhen = nameof(OnWindows))]
    public async Task Start_CreatesEveryFileOwnerOnly_WhenTheDataFolderAlreadyExistsOpenToOthers()
    {
        var dataDir = ExistingDataDir("755");
        try
        {
            await using var server = await KeelTestServer.StartAsync(dataDir, "Keel:Security:AdminToken=");
            using var client = server.CreateClient(await AdminTokenAsync(dataDir));
            await client.PutValueAsync(Service(), "prod", "k", "v");

            Assert.Equal(AllOwnerOnly, Modes(dataDir));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Fact(Skip = "Unix file modes", SkipWhen = nameof(OnWindows))]
    public async Task Start_MakesExistingFilesOwnerOnly_WhenTheyAreOpenToOthers()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var service = Service();
        try
        {
            await using (var server = await KeelTestServer.StartAsync(dataDir, "Keel:Security:AdminToken="))
            {
                using var client = server.CreateClient(await AdminTokenAsync(dataDir));
                await client.PutValueAsync(service, "prod", "k", "v1");
            }

            // As an older Keel, or a copy made with the umask's modes, leaves them; SQLite keeps an existing -wal's and -shm's mode.
            var openToOthers = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            foreach (var file in ServerFiles)
            {
                var path = Path.Combine(dataDir, file);
                if (!File.Exists(path))
                {
                    await File.WriteAllBytesAsync(path, [], Ct);
                }

                File.SetUnixFileMode(path, openToOthers);
            }

            var logs = new CapturingLoggerProvider();
            await using (var server = await KeelTestServer.StartAsync(dataDir, builder => builder.Logging.AddProvider(logs), "Keel:Security:AdminToken="))
            {
                using var client = server.CreateClient(await AdminTokenAsync(dataDir));
                await client.PutValueAsync(service, "prod", "k", "v2");

                Assert.Equal(AllOwnerOnly, Modes(dataDir));
                Assert.Equal(2, (await (await client.GetAsync(ConfigPath(service, "prod", "k"), Ct)).OkJsonAsync()).GetProperty("version").GetInt64());
            }

            Assert.Contains(logs.Lines, line => line.StartsWith("Warning", StringComparison.Ordinal)
                && line.Contains(Path.Combine(dataDir, "keel.db"), StringComparison.Ordinal) && line.Contains("mode 0644", StringComparison.Ordinal));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Theory(Skip = "Unix file modes", SkipWhen = nameof(OnWindows))]
    [InlineData("755")]
    [InlineData("750")]
    [InlineData("777")]
    public async Task Start_WarnsNamingTheFolderAndItsMode_WhenTheDataFolderIsOpenToOthers(string mode)
    {
        var dataDir = ExistingDataDir(mode);
        var logs = new CapturingLoggerProvider();
        try
        {
            await using (await KeelTestServer.StartAsync(dataDir, builder => builder.Logging.AddProvider(logs)))
            {
            }

            var warning = Assert.Single(logs.Lines, line => line.Contains($"mode 0{mode}", StringComparison.Ordinal));
            Assert.StartsWith("Warning", warning, StringComparison.Ordinal);
            Assert.Contains(Path.GetFullPath(dataDir), warning, StringComparison.Ordinal);

            // The folder may be a mount point or shared on purpose: it is the operator's to change.
            Assert.Equal((UnixFileMode)Convert.ToInt32(mode, 8), File.GetUnixFileMode(dataDir));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    [Theory(Skip = "Unix file modes", SkipWhen = nameof(OnWindows))]
    [InlineData(null)]
    [InlineData("700")]
    public async Task Start_DoesNotWarnAboutTheFolder_WhenItIsOwnerOnly(string? mode)
    {
        var dataDir = mode is null ? KeelTestServer.NewDataDir() : ExistingDataDir(mode);
        var logs = new CapturingLoggerProvider();
        try
        {
            await using (await KeelTestServer.StartAsync(dataDir, builder => builder.Logging.AddProvider(logs)))
            {
            }

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDir));
            Assert.DoesNotContain(logs.Lines, line => line.Contains("mode 0", StringComparison.Ordinal));
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
        }
    }

    /// <summary>
    /// Concurrent writes share a transaction, each in a savepoint; SQLite keeps what undoing one would restore in a statement
    /// journal, which is a temporary file (page images of the database) unless the writer keeps it in memory.
    /// </summary>
    [Fact(Skip = "SQLITE_TMPDIR is read by SQLite's Unix file system layer", SkipWhen = nameof(OnWindows))]
    public async Task ConcurrentWrites_WriteNoTemporaryFileOutsideTheDataFolder()
    {
        var dataDir = KeelTestServer.NewDataDir();
        var temporary = Directory.CreateTempSubdirectory("keel-sqlite-tmp-").FullName;
        var created = new ConcurrentBag<string>();
        try
        {
            // SQLite opens its temporary files in SQLITE_TMPDIR and unlinks them at once: only their creation shows.
            using var watcher = new FileSystemWatcher(temporary) { EnableRaisingEvents = true };
            watcher.Created += (_, e) => created.Add(e.Name ?? "");
            await using var server = await KeelServerProcess.StartAsync(
                ["--urls", "http://127.0.0.1:0", "--data-dir", dataDir], new Dictionary<string, string> { ["SQLITE_TMPDIR"] = temporary });
            var service = Service();
            await Task.WhenAll(Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await server.Client.PutValueAsync(service, "prod", $"w{w % 16}-{i % 4}", $"{w}.{i}");
                }
            }, Ct)));

            Assert.Equal(640, (await (await server.Client.GetAsync($"/api/v1/audit?service_name={service}&limit=1000", Ct)).OkJsonAsync()).GetProperty("records").GetArrayLength());
            await Task.Delay(200, Ct);
            Assert.Empty(created);
        }
        finally
        {
            KeelTestServer.DeleteDataDir(dataDir);
            Directory.Delete(temporary, recursive: true);
        }
    }

    static string ExistingDataDir(string mode)
    {
        var dataDir = KeelTestServer.NewDataDir();
        Directory.CreateDirectory(dataDir);
        File.SetUnixFileMode(dataDir, (UnixFileMode)Convert.ToInt32(mode, 8));
        return dataDir;
    }

    static async Task<string> AdminTokenAsync(string dataDir) =>
        (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin.token"), Ct)).Trim();

    /// <summary>Each file's mode, or null when it is missing.</summary>
    static Dictionary<string, UnixFileMode?> Modes(string dataDir) =>
        ServerFiles.ToDictionary(
            file => file,
            file => File.Exists(Path.Combine(dataDir, file)) ? File.GetUnixFileMode(Path.Combine(dataDir, file)) : (UnixFileMode?)null);
}
