// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Client;

/// <summary>Every log message of the client: they name selections, keys and revisions, never values.</summary>
static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Keel {Kind} {ServiceName}/{Environment}: the watch stream ended at revision {Revision}; reconnecting.")]
    public static partial void StreamEnded(ILogger logger, string kind, string serviceName, string environment, long revision);

    [LoggerMessage(2, LogLevel.Warning, "Keel {Kind} {ServiceName}/{Environment}: attempt failed ({Failures} in a row); retrying in {Delay}.")]
    public static partial void AttemptFailed(ILogger logger, string kind, string serviceName, string environment, int failures, TimeSpan delay, Exception error);

    [LoggerMessage(3, LogLevel.Warning, "Keel {Kind} {ServiceName}/{Environment}: watch streams do not get through ({Reason}); long-polling instead.")]
    public static partial void FellBackToLongPoll(ILogger logger, string kind, string serviceName, string environment, string reason);

    [LoggerMessage(4, LogLevel.Information, "Keel {Kind} {ServiceName}/{Environment}: trying the watch stream again.")]
    public static partial void StreamRetried(ILogger logger, string kind, string serviceName, string environment);

    [LoggerMessage(5, LogLevel.Warning, "Keel {Kind} {ServiceName}/{Environment}: revision {Revision} is no longer in the change feed; reading everything again.")]
    public static partial void RevisionGone(ILogger logger, string kind, string serviceName, string environment, long revision);

    [LoggerMessage(6, LogLevel.Warning, "Keel {Kind} {ServiceName}/{Environment}: the periodic conditional read failed.")]
    public static partial void SafetyNetFailed(ILogger logger, string kind, string serviceName, string environment, Exception error);

    [LoggerMessage(7, LogLevel.Warning, "Keel configuration {Selection}: {Count} encrypted key(s), among them '{Key}', left out: the token lacks secrets:read.")]
    public static partial void SecretsOmitted(ILogger logger, string selection, int count, string key);

    [LoggerMessage(8, LogLevel.Warning, "Keel configuration: {Count} key(s), among them '{Key}', left out: they differ only in case from a key before them in ordinal order, and configuration keys ignore case.")]
    public static partial void CaseCollisions(ILogger logger, int count, string key);

    [LoggerMessage(9, LogLevel.Warning, "Keel configuration {Selection}: the value of '{Key}' is left out: it does not parse as its type {ValueType}, or flattens to more than {Limit} entries.")]
    public static partial void ValueNotFlattened(ILogger logger, string selection, string key, string valueType, int limit);

    [LoggerMessage(10, LogLevel.Warning, "Keel {Kind}: Keel could not be reached within the startup timeout; serving the file cache from {Path} (revision {Revision}) and retrying in the background.")]
    public static partial void ServingCache(ILogger logger, string kind, string path, long revision, Exception? error);

    [LoggerMessage(11, LogLevel.Warning, "Keel {Kind}: Keel could not be reached within the startup timeout; starting empty and retrying in the background.")]
    public static partial void StartingEmpty(ILogger logger, string kind, Exception? error);

    [LoggerMessage(12, LogLevel.Warning, "Keel cache file {Path} is ignored: {Reason}.")]
    public static partial void CacheIgnored(ILogger logger, string path, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Keel cache file {Path} could not be written.")]
    public static partial void CacheWriteFailed(ILogger logger, string path, Exception error);

    [LoggerMessage(14, LogLevel.Warning, "Keel cache folder {Path} is open to other users; the cache file itself is owner-only.")]
    public static partial void CacheFolderOpen(ILogger logger, string path);

    [LoggerMessage(15, LogLevel.Error, "Keel configuration {Selection}: a change could not be applied; the last good data stays in use.")]
    public static partial void ApplyFailed(ILogger logger, string selection, Exception error);

    [LoggerMessage(16, LogLevel.Warning, "Keel refresh failed; the last good data stays in use.")]
    public static partial void RefreshFailed(ILogger logger, Exception error);

    [LoggerMessage(17, LogLevel.Debug, "Keel configuration: reloaded at revision {Revision}: {Added} added, {Changed} changed, {Removed} removed.")]
    public static partial void Reloaded(ILogger logger, long revision, int added, int changed, int removed);

    [LoggerMessage(18, LogLevel.Debug, "Keel flags {Selection}: reloaded at revision {Revision}: {Added} added, {Changed} changed, {Removed} removed.")]
    public static partial void FlagsReloaded(ILogger logger, string selection, long revision, int added, int changed, int removed);

    [LoggerMessage(19, LogLevel.Error, "Keel flags {Selection}: Keel answered with flag definitions this client cannot read; the last good flags stay in use.")]
    public static partial void FlagsUnreadable(ILogger logger, string selection, Exception error);

    [LoggerMessage(20, LogLevel.Error, "A handler of Keel's Changed event threw at revision {Revision}; the change is applied, and the other handlers ran.")]
    public static partial void ChangedHandlerFailed(ILogger logger, long revision, Exception error);
}
