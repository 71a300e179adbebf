// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Storage.Sqlite;

static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Opened SQLite database {Path} at schema version {SchemaVersion}")]
    public static partial void Opened(ILogger logger, string path, int schemaVersion);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "SQLite file {Path} had mode {Mode}, open to its group or others; it is now owner-only")]
    public static partial void FileMadeOwnerOnly(ILogger logger, string path, string mode);

    [LoggerMessage(
        EventId = 2009,
        Level = LogLevel.Warning,
        Message = "SQLite file {Path} has mode {Mode}, open to its group or others, and the store cannot change it (another user owns it, or the file system is read-only); make it owner-only (chmod 600)")]
    public static partial void FileOpenToOthers(ILogger logger, string path, string mode, Exception exception);
}
