// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Storage;
using Keel.Storage.Specification.Tests;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Storage.Sqlite.Tests;

/// <summary>What only SQLite has: its file, its journal, its locks and its schema table.</summary>
public sealed class SqliteConfigStoreTests : IAsyncLifetime
{
    readonly SqliteStoreFixture _fixture = new();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    SqliteConfigStore Store => (SqliteConfigStore)_fixture.Store;

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
        Assert.Equal("1,2", await command.ExecuteScalarAsync(Ct));
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
    public async Task Dispose_CheckpointsTheWalIntoTheDatabaseFile()
    {
        await Store.SetAsync(Set(new ConfigId("svc", "prod", "k"), "v"), Ct);
        Assert.True(File.Exists(_fixture.DatabasePath + "-wal"));

        await Store.DisposeAsync();

        Assert.False(File.Exists(_fixture.DatabasePath + "-wal"));
        Assert.True(new FileInfo(_fixture.DatabasePath).Length > 0);
    }

    [Fact]
    public async Task Writes_ReportTheStoreUnavailable_WhileAnotherProcessHoldsTheWriteLock_AndChangeNothing()
    {
        var id = new ConfigId("svc", "prod", "k");
        await Store.SetAsync(Set(id, "before"), Ct);
        await using var blocker = await OpenAsync(SqliteOpenMode.ReadWrite, "Default Timeout=1");
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE;";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => Store.SetAsync(Set(id, "blocked"), Ct));

        Assert.IsType<SqliteException>(e.InnerException);
        Assert.Equal("before", (await Store.GetAsync(id, Ct))!.Value);
        using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal(2, (await Store.SetAsync(Set(id, "after"), Ct)).Version);
    }

    [Fact]
    public async Task Reads_ReportTheStoreUnavailable_WhenTheDatabaseIsGone()
    {
        var store = new SqliteConfigStore(
            new SqliteConfigStoreOptions { DatabasePath = Path.Combine(_fixture.Directory, "missing", "keel.db") },
            TestIdentities.MasterKey,
            TimeProvider.System,
            NullLogger<SqliteConfigStore>.Instance);
        await using (store)
        {
            await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetRevisionAsync(Ct));
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
}
