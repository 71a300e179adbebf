// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Storage.Specification.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Storage.Postgres.Tests;

/// <summary>A real PostgreSQL database of its own on the server <c>KEEL_TEST_POSTGRES</c> names, dropped afterwards.</summary>
public sealed class PostgresStoreFixture : StoreFixture<PostgresStore>
{
    public PostgresTestDatabase? Database { get; private set; }

    public override string? SkipReason => PostgresTestDatabase.SkipReason;

    public override async ValueTask InitializeAsync()
    {
        if (SkipReason is null)
        {
            Database = await PostgresTestDatabase.CreateAsync(TestContext.Current.CancellationToken);
        }

        await base.InitializeAsync();
    }

    public override long CommittedTransactions => Current.CommittedTransactions;

    protected override PostgresStore Create(IKeyEncryptionKey masterKey) => new(
        new PostgresStoreOptions { ConnectionString = Database!.ConnectionString }, masterKey, Time, NullLogger<PostgresStore>.Instance);

    protected override async ValueTask CleanUpAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}
