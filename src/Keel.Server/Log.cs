// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Core.Storage;

namespace Keel.Server;

/// <summary>Every log line the server writes. Keys, versions and revisions are logged; configuration values never are.</summary>
static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Data folder {Path} locked for this server")]
    public static partial void DataDirectoryLocked(ILogger logger, string path);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Store ready ({Provider}) at revision {Revision}")]
    public static partial void StoreReady(ILogger logger, string provider, long revision);

    [LoggerMessage(
        EventId = 1003,
        Level = LogLevel.Warning,
        Message = "Data folder {Path} has mode {Mode}, open to its group or others: Keel keeps its own files in it owner-only, but whoever can enter the folder sees their names, and whoever can write to it can replace them. Make it owner-only (chmod 700)")]
    public static partial void DataDirectoryOpenToOthers(ILogger logger, string path, string mode);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "{Path} had mode {Mode}, open to its group or others; it is now owner-only")]
    public static partial void FileMadeOwnerOnly(ILogger logger, string path, string mode);

    [LoggerMessage(
        EventId = 1005,
        Level = LogLevel.Warning,
        Message = "{Path} has mode {Mode}, open to its group or others, and Keel cannot change it (another user owns it, or the file system is read-only); make it owner-only (chmod 600)")]
    public static partial void FileOpenToOthers(ILogger logger, string path, string mode, Exception exception);

    [LoggerMessage(
        EventId = 1101,
        Level = LogLevel.Information,
        Message = "Config {ServiceName}/{Environment}/{Key}: {ChangeType} to version {Version} at revision {Revision}")]
    static partial void ConfigChanged(
        ILogger logger, string serviceName, string environment, string key, ChangeType changeType, long version, long revision);

    /// <summary>Logs a change of a key, or of a flag in the flag API's terms.</summary>
    public static void Changed(ILogger logger, ConfigChange change)
    {
        var id = change.Id;
        if (!FlagStorage.IsFlagEnvironment(id.Environment))
        {
            ConfigChanged(logger, id.ServiceName, id.Environment, id.Key, change.ChangeType, change.Version, change.Revision);
        }
        else
        {
            var environment = FlagStorage.PublicEnvironment(id.Environment);
            FlagChanged(logger, id.ServiceName, environment, id.Key, change.ChangeType, change.Version, change.Revision);
        }
    }

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Config {ServiceName}/{Environment}: imported {Count} changes at revision {Revision}")]
    static partial void ConfigImported(ILogger logger, string serviceName, string environment, int count, long revision);

    /// <summary>Logs an import into a stored environment, of keys or of flags.</summary>
    public static void Imported(ILogger logger, string serviceName, string storedEnvironment, int count, long revision)
    {
        if (!FlagStorage.IsFlagEnvironment(storedEnvironment))
        {
            ConfigImported(logger, serviceName, storedEnvironment, count, revision);
        }
        else
        {
            var environment = FlagStorage.PublicEnvironment(storedEnvironment);
            FlagsImported(logger, serviceName, environment, count, revision);
        }
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Schema {ServiceName}/{KeyPattern}: {Action} version {Version}")]
    public static partial void SchemaChanged(ILogger logger, string serviceName, string keyPattern, string action, long version);

    [LoggerMessage(
        EventId = 1104,
        Level = LogLevel.Information,
        Message = "Flag {ServiceName}/{Environment}/{Key}: {ChangeType} to version {Version} at revision {Revision}")]
    static partial void FlagChanged(
        ILogger logger, string serviceName, string environment, string key, ChangeType changeType, long version, long revision);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Flags {ServiceName}/{Environment}: imported {Count} changes at revision {Revision}")]
    static partial void FlagsImported(ILogger logger, string serviceName, string environment, int count, long revision);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Master key read from {Source}")]
    public static partial void MasterKeyFrom(ILogger logger, string source);

    [LoggerMessage(
        EventId = 1202,
        Level = LogLevel.Warning,
        Message = "Generated a master key into {Path}. Production should supply its own (KEEL_MASTER_KEY or Keel:Encryption:KeyFile) and keep it apart from the data: whoever holds both can read every encrypted value, and without it none can be read")]
    public static partial void MasterKeyGenerated(ILogger logger, string path);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Bootstrap admin token taken from KEEL_ADMIN_TOKEN")]
    public static partial void AdminTokenFromEnvironment(ILogger logger);

    [LoggerMessage(
        EventId = 1204,
        Level = LogLevel.Warning,
        Message = "Generated the bootstrap admin token into {Path} (readable by this user only). Use it to create scoped tokens, then revoke it or keep the file safe")]
    public static partial void AdminTokenGenerated(ILogger logger, string path);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "Token {TokenId} ({TokenName}) created by {ActorName}")]
    public static partial void TokenCreated(ILogger logger, string tokenId, string tokenName, string actorName);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Information, Message = "Token {TokenId} ({TokenName}) revoked by {ActorName}")]
    public static partial void TokenRevoked(ILogger logger, string tokenId, string tokenName, string actorName);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Information, Message = "Encryption key rotated to data key {KeyId} by {ActorName}")]
    public static partial void KeyRotated(ILogger logger, int keyId, string actorName);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Information, Message = "TLS certificates read again: serving {Subject}, valid until {NotAfter:O}")]
    public static partial void TlsCertificatesReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "The TLS certificate files changed but cannot be read; serving the last ones until the next check")]
    public static partial void TlsCertificatesReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "Backup of {Bytes} bytes taken by {ActorName}")]
    public static partial void BackupTaken(ILogger logger, long bytes, string actorName);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Information, Message = "Master key {MasterKeyId} read again by {ActorName}; {Count} data keys wrapped again under it")]
    public static partial void DataKeysRewrapped(ILogger logger, string masterKeyId, string actorName, int count);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "Change feed compacted through revision {Revision}")]
    public static partial void ChangeFeedCompacted(ILogger logger, long revision);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Reading the change feed failed; retrying")]
    public static partial void ChangeFeedReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "The in-memory change feed restarts at revision {Revision}: the store answered {Status} after revision {After}")]
    public static partial void ChangeFeedRestarted(ILogger logger, long after, long revision, Keel.Core.Changes.ChangeFeedStatus status);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Debug, Message = "Watch stream of token {TokenId} ended: {Reason}")]
    public static partial void WatchStreamEnded(ILogger logger, string tokenId, string reason);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Debug, Message = "Watcher of token {TokenId} turned away by the {Cap} cap")]
    public static partial void WatcherRefused(ILogger logger, string tokenId, string cap);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Cache warmed: {Loaded} of {Listed} listed keys loaded in {ElapsedMs} ms")]
    public static partial void CacheWarmed(ILogger logger, int loaded, int listed, long elapsedMs);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Warming the cache stopped after {Loaded} keys; the rest load on first read")]
    public static partial void CacheWarmingFailed(ILogger logger, Exception exception, int loaded);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "The list of cached keys could not be written; the last one stays")]
    public static partial void HotKeysSaveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Webhook subscription {SubscriptionId} for {ServiceName}/{Environment} created by {ActorName}")]
    public static partial void WebhookSubscribed(ILogger logger, string subscriptionId, string serviceName, string environment, string actorName);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Webhook subscription {SubscriptionId} deleted by {ActorName}")]
    public static partial void WebhookUnsubscribed(ILogger logger, string subscriptionId, string actorName);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} of subscription {SubscriptionId} failed on attempt {Attempt} ({Error}); next attempt at {RetryAt:O}")]
    public static partial void WebhookDeliveryFailed(ILogger logger, string subscriptionId, string deliveryId, int attempt, string error, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} of subscription {SubscriptionId} is dead after {Attempt} attempts ({Error})")]
    public static partial void WebhookDeliveryDead(ILogger logger, string subscriptionId, string deliveryId, int attempt, string error);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Error, Message = "Reading or writing the webhook outbox failed; retrying")]
    public static partial void WebhookOutboxFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Warning, Message = "Reloading the tokens after a change on another node failed; keeping the last ones until the store signals again")]
    public static partial void TokenReloadFailed(ILogger logger, Exception exception);
}
