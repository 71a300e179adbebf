// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;
using Keel.Storage.Relational.Audit;
using Keel.Storage.Relational.Changes;
using Keel.Storage.Relational.Configs;
using Keel.Storage.Relational.Encryption;
using Keel.Storage.Relational.Schemas;
using Keel.Storage.Relational.Tokens;
using Keel.Storage.Relational.Webhooks;

namespace Keel.Storage.Relational;

/// <summary>A SQL backend: every store contract as a table group over one database, with the backend's own write engine.</summary>
public abstract class RelationalStore : IKeelStore
{
    readonly RelationalDatabase _database;

    internal RelationalStore(RelationalDatabase database, IConfigWriter writer)
    {
        var reveal = new ValueReveal(database);
        _database = database;
        Configs = new ConfigTable(database, reveal, writer);
        Changes = new ChangeFeedTable(database);
        Webhooks = new WebhookTables(database, reveal);
        Tokens = new TokenTable(database);
        Audit = new AuditLog(database);
        Keys = new KeyTable(database);
        Schemas = new SchemaTable(database);
    }

    /// <inheritdoc/>
    public IStoreLifecycle Lifecycle => _database;

    /// <inheritdoc/>
    public IConfigStore Configs { get; }

    /// <inheritdoc/>
    public IChangeFeedStore Changes { get; }

    /// <inheritdoc/>
    public IWebhookStore Webhooks { get; }

    /// <inheritdoc/>
    public ITokenStore Tokens { get; }

    /// <inheritdoc/>
    public IAuditStore Audit { get; }

    /// <inheritdoc/>
    public IEncryptionKeyStore Keys { get; }

    /// <inheritdoc/>
    public ISchemaStore Schemas { get; }

    /// <inheritdoc/>
    public virtual IStoreBackup? Backup => null;

    /// <summary>The transactions that committed grouped changes since the store opened; under load, fewer than the changes.</summary>
    internal long CommittedTransactions => _database.CommittedTransactions;

    /// <summary>Waits for the change in progress, if any, then closes every connection; later calls fail.</summary>
    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return _database.DisposeAsync();
    }
}
