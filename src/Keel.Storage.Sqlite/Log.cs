// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Opened SQLite database {Path} at schema version {SchemaVersion}")]
    public static partial void Opened(ILogger logger, string path, int schemaVersion);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Applied SQLite migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "The stored value of {ServiceName}/{Environment}/{Key} version {Version} failed to decrypt: {Status}")]
    public static partial void DecryptionFailed(ILogger logger, string serviceName, string environment, string key, long version, Keel.Core.Encryption.DecryptionStatus status);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Created data key {KeyId}, wrapped by {KeyEncryptionKeyId}")]
    public static partial void DataKeyCreated(ILogger logger, int keyId, string keyEncryptionKeyId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Key rotation to data key {KeyId} re-encrypted {Values} values and {Versions} versions; retired {Retired} keys")]
    public static partial void RotationFinished(ILogger logger, int keyId, long values, long versions, int retired);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Key rotation left {Count} values that fail to decrypt on their old data key")]
    public static partial void RotationSkippedUndecryptable(ILogger logger, long count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Error, Message = "The signing secret of webhook subscription {SubscriptionId} failed to decrypt: {Status}")]
    public static partial void WebhookSecretDecryptionFailed(ILogger logger, string subscriptionId, Keel.Core.Encryption.DecryptionStatus status);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "SQLite file {Path} had mode {Mode}, open to its group or others; it is now owner-only")]
    public static partial void FileMadeOwnerOnly(ILogger logger, string path, string mode);

    [LoggerMessage(
        EventId = 2009,
        Level = LogLevel.Warning,
        Message = "SQLite file {Path} has mode {Mode}, open to its group or others, and the store cannot change it (another user owns it, or the file system is read-only); make it owner-only (chmod 600)")]
    public static partial void FileOpenToOthers(ILogger logger, string path, string mode, Exception exception);
}
