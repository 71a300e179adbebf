// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Storage.Specification.Tests;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Storage.Sqlite.Tests;

/// <summary>What only SQLite has: its file, its journal, its locks and its schema table.</summary>
public sealed class SqliteStoreTests : IAsyncLifetime
{
    readonly SqliteStoreFixture _fixture = new();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    SqliteStore Store => _fixture.Current;

    public ValueTask InitializeAsync() => _fixture.InitializeAsync();

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task Initialize_OpensTheDatabaseInWalModeWithFullSynchronousCommits()
    {
        var (journalMode, synchronous) = await Store.GetDurabilitySettingsAsync();

        Assert.Equal("wal", journalMode);
        Assert.Equal(2, synchronous);
    }

    [Fact]
    public async Task Initialize_RecordsEachMigrationOnce()
    {
        await _fixture.ReopenAsync();

        await using var connection = await OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(version) FROM keel_schema_migrations;";
        Assert.Equal(string.Join(",", Migrations.SqliteMigrations.All.Select(m => m.Version)), await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Initialize_RefusesADatabaseFromANewerKeel()
    {
        await using (var connection = await OpenAsync())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO keel_schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0);";
            await command.ExecuteNonQueryAsync(Ct);
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(_fixture.ReopenAsync);

        Assert.Contains("schema version 999", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initialize_StartsTheChangeFeedOfAnOlderDatabaseWithItsHistory()
    {
        var path = Path.Combine(_fixture.Directory, "v2.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            using var command = connection.CreateCommand();
            command.CommandText = string.Concat(Migrations.SqliteMigrations.All.Where(m => m.Version <= 2).Select(m => m.Sql)) + """
                CREATE TABLE keel_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
                INSERT INTO keel_schema_migrations VALUES (1, 'configs and versions', 0), (2, 'encryption keys, tokens and audit trail', 0);
                INSERT INTO configs (id, service_name, environment, config_key, version, value, value_type, is_deleted, created_at,
                                     updated_at, updated_by, revision)
                VALUES (1, 'svc', 'dev', 'k', 2, 'b', 'string', 0, 1000, 2000, 'tester', 2);
                INSERT INTO config_versions (config_id, version, value, value_type, change_type, created_at, created_by, revision)
                VALUES (1, 1, 'a', 'string', 'create', 1000, 'tester', 1), (1, 2, 'b', 'string', 'update', 2000, 'tester', 2);
                UPDATE keel_revision SET revision = 2;
                """;
            await command.ExecuteNonQueryAsync(Ct);
        }

        await using var store = new SqliteStore(
            new SqliteStoreOptions { DatabasePath = path }, TestIdentities.MasterKey, _fixture.Time, NullLogger<SqliteStore>.Instance);
        await store.Lifecycle.InitializeAsync(Ct);

        var page = await store.Changes.ReadChangesAsync(new Keel.Core.Changes.ChangeFeedQuery { AfterRevision = 0, Limit = 10 }, Ct);
        Assert.Equal(
            [(1L, 1L, ChangeType.Create), (2L, 2L, ChangeType.Update)],
            page.Changes.Select(c => (c.Revision, c.Version, c.ChangeType)));
        Assert.All(page.Changes, c => Assert.Equal(new ConfigId("svc", "dev", "k"), c.Id));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(20_000), page.Changes[1].Timestamp);
    }

    [Fact]
    public async Task Migration_IndexesTheKeysOfAnExistingDatabase_AndWritesKeepItInStep()
    {
        await Store.Configs.ApplyChangeSetAsync(Keys("svc", ["old.needle.a", "old.needle.b", "other"]), Ct);

        // The database as Keel left it before the index: no index table, no triggers, migration 8 unrecorded. The store
        // reopens it, as a newer Keel would.
        await using (var connection = new SqliteConnection($"Data Source={_fixture.DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            using var command = connection.CreateCommand();
            command.CommandText = """
                DROP TRIGGER configs_search_insert; DROP TRIGGER configs_search_update; DROP TRIGGER configs_search_delete;
                DROP TABLE configs_search;
                DELETE FROM keel_schema_migrations WHERE version = 8;
                """;
            await command.ExecuteNonQueryAsync(Ct);
        }

        await _fixture.ReopenAsync();
        await Store.Configs.ApplyChangeSetAsync(Keys("svc", ["new.needle.c"]), Ct);
        await Store.Configs.DeleteAsync(new DeleteConfigRequest { Id = new ConfigId("svc", "dev", "old.needle.b"), Actor = TestIdentities.Tester }, Ct);

        var page = await Store.Configs.SearchAsync(new SearchQuery { Text = "needle", Limit = 10, MaxScannedKeys = 1 }, Ct);

        Assert.Equal(["new.needle.c", "old.needle.a"], page.Results.Select(r => r.Id.Key));
        Assert.False(page.BudgetReached);
        Assert.Equal(3, await CountIndexedAsync("*needle*"));
    }

    [Fact]
    public async Task Dispose_CheckpointsTheWalIntoTheDatabaseFile()
    {
        await Store.Configs.SetAsync(Set(new ConfigId("svc", "prod", "k"), "v"), Ct);
        Assert.True(File.Exists(_fixture.DatabasePath + "-wal"));

        await Store.DisposeAsync();

        Assert.False(File.Exists(_fixture.DatabasePath + "-wal"));
        Assert.True(new FileInfo(_fixture.DatabasePath).Length > 0);
    }

    [Fact(Skip = "Unix file modes", SkipWhen = nameof(OnWindows))]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Initialize_CreatesTheDatabaseAndItsWalAndShmOwnerOnly()
    {
        await Store.Configs.SetAsync(Set(new ConfigId("svc", "prod", "k"), "v"), Ct);

        Assert.Equal(OwnerOnly(_fixture.DatabasePath), Modes(_fixture.DatabasePath));
    }

    [Fact(Skip = "Unix file modes", SkipWhen = nameof(OnWindows))]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Initialize_MakesExistingDatabaseFilesOwnerOnly()
    {
        // SQLite keeps the mode of a database, -wal or -shm file it finds, as an older Keel or a restored backup leaves them.
        var path = Path.Combine(_fixture.Directory, "existing.db");
        foreach (var file in DatabaseFiles(path))
        {
            await File.WriteAllBytesAsync(file, [], Ct);
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        await using var store = new SqliteStore(
            new SqliteStoreOptions { DatabasePath = path }, TestIdentities.MasterKey, TimeProvider.System, NullLogger<SqliteStore>.Instance);
        await store.Lifecycle.InitializeAsync(Ct);
        await store.Configs.SetAsync(Set(new ConfigId("svc", "prod", "k"), "v"), Ct);

        Assert.Equal(OwnerOnly(path), Modes(path));
    }

    public static bool OnWindows => OperatingSystem.IsWindows();

    static string[] DatabaseFiles(string path) => [path, path + "-wal", path + "-shm"];

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    static Dictionary<string, UnixFileMode?> Modes(string path) =>
        DatabaseFiles(path).ToDictionary(file => Path.GetFileName(file), file => File.Exists(file) ? File.GetUnixFileMode(file) : (UnixFileMode?)null);

    static Dictionary<string, UnixFileMode?> OwnerOnly(string path) =>
        DatabaseFiles(path).ToDictionary(file => Path.GetFileName(file), _ => (UnixFileMode?)(UnixFileMode.UserRead | UnixFileMode.UserWrite));

    [Fact]
    public async Task Writes_ReportTheStoreUnavailable_WhileAnotherProcessHoldsTheWriteLock_AndChangeNothing()
    {
        var id = new ConfigId("svc", "prod", "k");
        await Store.Configs.SetAsync(Set(id, "before"), Ct);
        await using var blocker = await OpenAsync(SqliteOpenMode.ReadWrite, "Default Timeout=1");
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE;";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => Store.Configs.SetAsync(Set(id, "blocked"), Ct));

        Assert.IsType<SqliteException>(e.InnerException);
        Assert.Equal("before", (await Store.Configs.GetAsync(id, Ct))!.Value);
        using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal(2, (await Store.Configs.SetAsync(Set(id, "after"), Ct)).Version);
    }

    [Fact]
    public async Task Reads_ReportTheStoreUnavailable_WhenTheDatabaseIsGone()
    {
        var store = new SqliteStore(
            new SqliteStoreOptions { DatabasePath = Path.Combine(_fixture.Directory, "missing", "keel.db") },
            TestIdentities.MasterKey,
            TimeProvider.System,
            NullLogger<SqliteStore>.Instance);
        await using (store)
        {
            await Assert.ThrowsAsync<StoreUnavailableException>(() => store.Lifecycle.GetRevisionAsync(Ct));
        }
    }

    [Fact]
    public async Task EncryptedValues_NeverReachTheDatabaseFilesInPlaintext()
    {
        var secret = "plaintext-marker-" + Guid.NewGuid().ToString("N");
        var id = new ConfigId("raw-scan", "prod", "db.password");
        await Store.Configs.SetAsync(Set(id, "plain-" + secret), Ct);
        await Store.Configs.SetAsync(Set(id, "enc1-" + secret) with { Encrypt = true }, Ct);
        await Store.Configs.SetAsync(Set(id, "enc2-" + secret), Ct);
        await Store.Configs.RollbackAsync(new RollbackConfigRequest { Id = id, TargetVersion = 2, Actor = TestIdentities.Tester }, Ct);
        await Store.Keys.RotateEncryptionKeyAsync(TestIdentities.Tester, Ct);

        // While open (the WAL holds the recent pages) and after close (checkpointed into the database file).
        AssertNotInFiles(secret);
        await _fixture.ReopenAsync();
        Assert.Equal("enc1-" + secret, (await Store.Configs.GetAsync(id, Ct))!.Value);
        AssertNotInFiles(secret);
        Assert.NotEmpty(Directory.GetFiles(_fixture.Directory));
    }

    [Fact]
    public async Task TamperedCiphertext_IsReportedAsFailed_NeverReturned()
    {
        var id = new ConfigId("tamper", "prod", "api.key");
        await Store.Configs.SetAsync(Set(id, "original") with { Encrypt = true }, Ct);
        await using (var connection = await OpenAsync())
        {
            // Flip one bit of the ciphertext's last byte in both the current row and its version.
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM configs WHERE config_key = 'api.key' AND service_name = 'tamper';";
            var bytes = Convert.FromBase64String((string)(await command.ExecuteScalarAsync(Ct))!);
            bytes[^1] ^= 1;
            command.CommandText = "UPDATE configs SET value = $v WHERE service_name = 'tamper'; UPDATE config_versions SET value = $v WHERE config_id = (SELECT id FROM configs WHERE service_name = 'tamper');";
            command.Parameters.AddWithValue("$v", Convert.ToBase64String(bytes));
            await command.ExecuteNonQueryAsync(Ct);
        }

        var entry = (await Store.Configs.GetAsync(id, Ct))!;
        Assert.True(entry.DecryptionFailed);
        Assert.Equal(string.Empty, entry.Value);
        var version = Assert.Single((await Store.Configs.GetHistoryAsync(id, 10, null, Ct))!);
        Assert.True(version.DecryptionFailed);
        var e = await Assert.ThrowsAsync<Keel.Core.KeelException>(
            () => Store.Configs.RollbackAsync(new RollbackConfigRequest { Id = id, TargetVersion = 1, Actor = TestIdentities.Tester }, Ct));
        Assert.Equal(Keel.Core.KeelError.DecryptionFailed, e.Error);
    }

    [Fact]
    public async Task CiphertextCopiedToAnotherKey_FailsToDecrypt()
    {
        var source = new ConfigId("copy", "prod", "source");
        var target = new ConfigId("copy", "prod", "target");
        await Store.Configs.SetAsync(Set(source, "source-secret") with { Encrypt = true }, Ct);
        await Store.Configs.SetAsync(Set(target, "target-secret") with { Encrypt = true }, Ct);
        await using (var connection = await OpenAsync())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE configs SET value = (SELECT value FROM configs WHERE service_name = 'copy' AND config_key = 'source') WHERE service_name = 'copy' AND config_key = 'target';";
            await command.ExecuteNonQueryAsync(Ct);
        }

        Assert.True((await Store.Configs.GetAsync(target, Ct))!.DecryptionFailed);
        Assert.Equal("source-secret", (await Store.Configs.GetAsync(source, Ct))!.Value);
    }

    [Fact]
    public async Task Initialize_RefusesAnotherMasterKey()
    {
        await Store.Configs.SetAsync(Set(new ConfigId("kek", "prod", "k"), "v") with { Encrypt = true }, Ct);
        await _fixture.ReopenAsync();
        var other = new SqliteStore(
            new SqliteStoreOptions { DatabasePath = _fixture.DatabasePath },
            new Keel.Core.Encryption.LocalKeyEncryptionKey(new byte[32]),
            TimeProvider.System,
            NullLogger<SqliteStore>.Instance);
        await using (other)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => other.Lifecycle.InitializeAsync(Ct));
            Assert.Contains("master key", e.Message, StringComparison.Ordinal);
        }
    }

    void AssertNotInFiles(string secret)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(secret);
        foreach (var file in Directory.GetFiles(_fixture.Directory))
        {
            byte[] content;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                content = new byte[stream.Length];
                stream.ReadExactly(content);
            }

            Assert.True(content.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds the plaintext.");
        }
    }

    async Task<SqliteConnection> OpenAsync(SqliteOpenMode mode = SqliteOpenMode.ReadWrite, string extra = "")
    {
        var connection = new SqliteConnection($"Data Source={_fixture.DatabasePath};Mode={mode};Pooling=False;{extra}");
        await connection.OpenAsync(Ct);
        return connection;
    }

    static SetConfigRequest Set(ConfigId id, string value) =>
        new() { Id = id, Value = value, ValueType = ConfigValueType.String, Actor = TestIdentities.Tester };

    async Task<long> CountIndexedAsync(string pattern)
    {
        await using var connection = new SqliteConnection($"Data Source={_fixture.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(Ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM configs_search WHERE search_key GLOB @pattern;";
        command.Parameters.AddWithValue("@pattern", pattern);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    static ChangeSetRequest Keys(string service, IReadOnlyList<string> keys) => new()
    {
        ServiceName = service,
        Environment = "dev",
        Items = [.. keys.Select(k => new ChangeSetItem { Key = k, Value = "v", ValueType = ConfigValueType.String })],
        Actor = TestIdentities.Tester,
    };
}
