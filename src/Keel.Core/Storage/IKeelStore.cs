// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Storage;

/// <summary>
/// A storage backend: every store contract the server needs, over one database. A backend that lacks a part does not compile,
/// and the server reaches each part through a property, never a cast.
/// </summary>
public interface IKeelStore : IAsyncDisposable
{
    /// <summary>Start-up and the store-wide revision.</summary>
    IStoreLifecycle Lifecycle { get; }

    /// <summary>Configuration and flag values, their versions, history and search.</summary>
    IConfigStore Configs { get; }

    /// <summary>The ordered feed of committed changes.</summary>
    IChangeFeedStore Changes { get; }

    /// <summary>Webhook subscriptions and their outbox of deliveries.</summary>
    IWebhookStore Webhooks { get; }

    /// <summary>API tokens.</summary>
    ITokenStore Tokens { get; }

    /// <summary>The audit trail.</summary>
    IAuditStore Audit { get; }

    /// <summary>The data keys that encrypt values, and their rotation.</summary>
    IEncryptionKeyStore Keys { get; }

    /// <summary>The JSON schemas that validate values.</summary>
    ISchemaStore Schemas { get; }

    /// <summary>The backend's own online backup, if it has one; others are backed up with their database's tools.</summary>
    IStoreBackup? Backup { get; }
}
