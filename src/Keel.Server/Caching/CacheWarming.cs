// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text;
using Keel.Core.Configs;
using Keel.Server.Storage;
using Microsoft.Extensions.Options;

namespace Keel.Server.Caching;

/// <summary>
/// Keeps the cache warm across restarts: the names of the keys it holds are written to <c>cache-hot-keys</c> in the data
/// folder every <see cref="CacheOptions.HotKeysSaveInterval"/> and at shutdown, and after a start they are loaded back in
/// batch reads, one service and environment at a time, while the server already serves.
/// </summary>
/// <remarks>
/// The file holds key names only, never values, one <c>service TAB environment TAB key</c> per line (names hold no
/// whitespace); a line that is not a valid name is skipped. Warming goes through the cache's load protocol, so a write during
/// it is never hidden by an older row, and it counts no lookup, so the hit rate stays that of real reads.
/// </remarks>
sealed class CacheWarming(
    CachingConfigStore store,
    ConfigCache cache,
    DataDirectory dataDirectory,
    IOptions<CacheOptions> options,
    TimeProvider timeProvider,
    ILogger<CacheWarming> logger) : BackgroundService
{
    public const string FileName = "cache-hot-keys";

    readonly TaskCompletionSource _warmed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    string FilePath => dataDirectory.PathOf(FileName);

    /// <summary>Completes once the list read at start has been loaded (or there was none): from then on the list is written again.</summary>
    public Task Warmed => _warmed.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Warm)
        {
            return;
        }

        await Task.Yield();
        await WarmAsync(stoppingToken).ConfigureAwait(false);

        // The interval counts from the end of warming, which is what Warmed tells.
        using var timer = new PeriodicTimer(options.Value.HotKeysSaveInterval, timeProvider);
        _warmed.TrySetResult();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await SaveAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync writes the list once more.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);

        // A shutdown during warming keeps the list it read: the cache holds only part of it yet.
        if (_warmed.Task.IsCompleted)
        {
            await SaveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the names of the cached keys, replacing the file at once so that a reader never sees half of it.</summary>
    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        var temporary = FilePath + ".tmp";
        try
        {
            var file = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                file.UnixCreateMode = OwnerOnlyFiles.File;
            }

            var stream = new FileStream(temporary, file);
            await using (stream.ConfigureAwait(false))
            {
                var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                await using (writer.ConfigureAwait(false))
                {
                    var written = 0;
                    foreach (var id in cache.CachedIds())
                    {
                        if (++written > cache.MaxEntries)
                        {
                            break;
                        }

                        await writer.WriteAsync($"{id.ServiceName}\t{id.Environment}\t{id.Key}\n".AsMemory(), cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            if (e is not OperationCanceledException)
            {
                Log.HotKeysSaveFailed(logger, e);
            }

            try
            {
                File.Delete(temporary);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
                // Overwritten by the next save.
            }
        }
    }

    async Task WarmAsync(CancellationToken cancellationToken)
    {
        var listed = new Dictionary<(string Service, string Environment), List<string>>();
        var count = 0;
        try
        {
            if (!File.Exists(FilePath))
            {
                return;
            }

            using var reader = new StreamReader(FilePath, Encoding.UTF8);
            while (count < cache.MaxEntries && await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                var parts = line.Split('\t');
                if (parts.Length == 3
                    && ConfigNames.IsValidServiceName(parts[0], out _)
                    && ConfigNames.IsValidEnvironment(parts[1], out _)
                    && ConfigNames.IsValidKey(parts[2], out _))
                {
                    var scope = (parts[0], parts[1]);
                    if (!listed.TryGetValue(scope, out var keys))
                    {
                        listed[scope] = keys = [];
                    }

                    keys.Add(parts[2]);
                    count++;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.CacheWarmingFailed(logger, e, 0);
            return;
        }

        var clock = Stopwatch.StartNew();
        var loaded = 0;
        try
        {
            foreach (var ((service, environment), keys) in listed)
            {
                foreach (var batch in keys.Chunk(options.Value.WarmBatchSize))
                {
                    loaded += await store.WarmAsync(service, environment, batch, cancellationToken).ConfigureAwait(false);
                }
            }

            Log.CacheWarmed(logger, loaded, count, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The store may be down or slow: the keys not loaded load on their first read, as they would without warming.
            Log.CacheWarmingFailed(logger, e, loaded);
        }
    }
}
