// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;
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
        EventId = 1101,
        Level = LogLevel.Information,
        Message = "Config {ServiceName}/{Environment}/{Key}: {ChangeType} to version {Version} at revision {Revision}")]
    static partial void ConfigChanged(
        ILogger logger, string serviceName, string environment, string key, ChangeType changeType, long version, long revision);

    public static void ConfigChanged(ILogger logger, ConfigChange change) =>
        ConfigChanged(logger, change.Id.ServiceName, change.Id.Environment, change.Id.Key, change.ChangeType, change.Version, change.Revision);
}
