// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Encryption;
using Microsoft.Extensions.Logging;

namespace Keel.Storage.Relational;

static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Applied {Engine} migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, string engine, int version, string name);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "The stored value of {ServiceName}/{Environment}/{Key} version {Version} failed to decrypt: {Status}")]
    public static partial void DecryptionFailed(ILogger logger, string serviceName, string environment, string key, long version, DecryptionStatus status);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Created data key {KeyId}, wrapped by {KeyEncryptionKeyId}")]
    public static partial void DataKeyCreated(ILogger logger, int keyId, string keyEncryptionKeyId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Key rotation to data key {KeyId} re-encrypted {Values} values and {Versions} versions; retired {Retired} keys")]
    public static partial void RotationFinished(ILogger logger, int keyId, long values, long versions, int retired);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Key rotation left {Count} values that fail to decrypt on their old data key")]
    public static partial void RotationSkippedUndecryptable(ILogger logger, long count);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "The signing secret of webhook subscription {SubscriptionId} failed to decrypt: {Status}")]
    public static partial void WebhookSecretDecryptionFailed(ILogger logger, string subscriptionId, DecryptionStatus status);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information, Message = "Reloaded the key ring: {Count} data keys, active {ActiveKeyId}")]
    public static partial void KeyRingReloaded(ILogger logger, int count, int activeKeyId);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Data key {KeyId} wrapped again under master key {CurrentKekId}, in place of retired master key {RetiredKekId}")]
    public static partial void DataKeyRewrapped(ILogger logger, int keyId, string retiredKekId, string currentKekId);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "The master key was read again: {CurrentKekId} replaces {RetiredKekId}, which still unwraps until every data key is wrapped again")]
    public static partial void MasterKeyReplaced(ILogger logger, string retiredKekId, string currentKekId);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "The key ring was not reloaded; this node keeps the data keys it holds")]
    public static partial void KeyRingReloadFailed(ILogger logger, Exception exception);
}
