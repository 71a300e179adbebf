// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Postgres;

static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Opened PostgreSQL database {Database} at schema version {SchemaVersion}")]
    public static partial void Opened(ILogger logger, string database, int schemaVersion);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Applied PostgreSQL migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "The stored value of {ServiceName}/{Environment}/{Key} version {Version} failed to decrypt: {Status}")]
    public static partial void DecryptionFailed(ILogger logger, string serviceName, string environment, string key, long version, DecryptionStatus status);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Created data key {KeyId}, wrapped by {KeyEncryptionKeyId}")]
    public static partial void DataKeyCreated(ILogger logger, int keyId, string keyEncryptionKeyId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Key rotation to data key {KeyId} re-encrypted {Values} values and {Versions} versions; retired {Retired} keys")]
    public static partial void RotationFinished(ILogger logger, int keyId, long values, long versions, int retired);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Key rotation left {Count} values that fail to decrypt on their old data key")]
    public static partial void RotationSkippedUndecryptable(ILogger logger, long count);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "The signing secret of webhook subscription {SubscriptionId} failed to decrypt: {Status}")]
    public static partial void WebhookSecretDecryptionFailed(ILogger logger, string subscriptionId, DecryptionStatus status);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "Listening for changes from other nodes on {Database}")]
    public static partial void ListenerConnected(ILogger logger, string database);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Lost the change notification connection to {Database}; reconnecting in {Delay}, polling the feed meanwhile")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, string database, TimeSpan delay);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Reloaded the key ring: {Count} data keys, active {ActiveKeyId}")]
    public static partial void KeyRingReloaded(ILogger logger, int count, int activeKeyId);
}
