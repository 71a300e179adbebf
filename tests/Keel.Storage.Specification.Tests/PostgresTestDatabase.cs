// Copyright (c) Keel contributors. Licensed under the MIT License.

using Npgsql;

namespace Keel.Storage.Specification.Tests;

/// <summary>
/// A fresh PostgreSQL database for one fixture, created on the server <c>KEEL_TEST_POSTGRES</c> names and dropped afterwards.
/// Without the variable the PostgreSQL tests are skipped, except under CI (<c>CI</c> set), where they must run and fail instead.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    public const string Variable = "KEEL_TEST_POSTGRES";

    readonly string _adminConnectionString;

    PostgresTestDatabase(string adminConnectionString, string name)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary>A connection string to the new database.</summary>
    public string ConnectionString { get; }

    /// <summary>Why the PostgreSQL tests are skipped here, or <see langword="null"/> when they run.</summary>
    public static string? SkipReason =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
            ? null
            : $"PostgreSQL tests need {Variable}, a connection string to a server where the user may create databases (README, Tests).";

    /// <summary>Creates a database; fails with a clear message when the server cannot be reached.</summary>
    public static async Task<PostgresTestDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        var admin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(admin))
        {
            throw new InvalidOperationException($"CI is set, so the PostgreSQL tests must run, but {Variable} is not set.");
        }

        var database = new PostgresTestDatabase(admin, "keel_test_" + Guid.NewGuid().ToString("N")[..16]);
        try
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database.Name};", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"The PostgreSQL server in {Variable} cannot be used to create a test database: {e.Message}", e);
        }

        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();

        // DROP ... WITH (FORCE) also terminates autovacuum workers, which a role that is not a superuser (CI's) may not do
        // (42501) when one happens to be in the database. So the tests' own sessions are ended here, and a plain DROP has
        // PostgreSQL end an autovacuum worker itself; a session that is still closing makes it wait and try again.
        await using (var terminate = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name AND usename = current_user AND pid <> pg_backend_pid();",
            connection))
        {
            terminate.Parameters.AddWithValue("name", Name);
            await terminate.ExecuteScalarAsync();
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name};", connection);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }
}
