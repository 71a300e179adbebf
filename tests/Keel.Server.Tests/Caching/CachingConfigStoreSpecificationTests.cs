// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Keel.Core.Storage;
using Keel.Server.Caching;
using Keel.Storage.Specification.Tests;
using Keel.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Server.Tests.Caching;

/// <summary>
/// The storage contract against what the server really uses: the cache in front of a SQLite store. Caching may change how fast
/// the store answers, never what it answers.
/// </summary>
public sealed class CachingConfigStoreSpecificationTests(CachingStoreFixture fixture)
    : ConfigStoreSpecification<CachingStoreFixture>(fixture);

/// <summary>A SQLite store in a temporary folder, behind a cache of its own; every store opened on the same data gets its own cache.</summary>
public sealed class CachingStoreFixture : StoreFixture<CachingStoreFixture.CachedStore>
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "keel-caching-spec", Guid.NewGuid().ToString("N"));

    public override ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return base.InitializeAsync();
    }

    protected override CachedStore Create(IKeyEncryptionKey masterKey) => new(new SqliteStore(
        new SqliteStoreOptions { DatabasePath = Path.Combine(_directory, "keel.db") }, masterKey, Time, NullLogger<SqliteStore>.Instance));

    protected override ValueTask CleanUpAsync()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A backend whose configuration store is cached, as the server composes it.</summary>
    public sealed class CachedStore(SqliteStore backend) : IKeelStore
    {
        public IStoreLifecycle Lifecycle => backend.Lifecycle;

        public IConfigStore Configs { get; } = new CachingConfigStore(backend.Configs, ConfigCacheTests.NewCache());

        public IChangeFeedStore Changes => backend.Changes;

        public IWebhookStore Webhooks => backend.Webhooks;

        public ITokenStore Tokens => backend.Tokens;

        public IAuditStore Audit => backend.Audit;

        public IEncryptionKeyStore Keys => backend.Keys;

        public ISchemaStore Schemas => backend.Schemas;

        public IStoreBackup? Backup => backend.Backup;

        public ValueTask DisposeAsync() => backend.DisposeAsync();
    }
}
