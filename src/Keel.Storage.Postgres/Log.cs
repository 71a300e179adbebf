// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Storage.Postgres;

static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Opened PostgreSQL database {Database} at schema version {SchemaVersion}")]
    public static partial void Opened(ILogger logger, string database, int schemaVersion);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "Listening for changes from other nodes on {Database}")]
    public static partial void ListenerConnected(ILogger logger, string database);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Lost the change notification connection to {Database}; reconnecting in {Delay}, polling the feed meanwhile")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, string database, TimeSpan delay);

}
