// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Opened SQLite database {Path} at schema version {SchemaVersion}")]
    public static partial void Opened(ILogger logger, string path, int schemaVersion);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Applied SQLite migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);
}
