// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.Metrics;
using System.Text.Json;
using Keel.Client.Caching;
using Keel.Client.Diagnostics;
using Keel.Client.Http;
using Keel.Client.Watching;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Client.Configuration;

/// <summary>
/// Configuration read from Keel and kept current in the background, with a last-known-good file for starts while Keel is
/// unreachable.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Load"/> reads every selection, retrying transient failures for <see cref="KeelStartupOptions.Timeout"/>; then
/// it falls back to the file cache, to empty data when the source is optional, or throws
/// <see cref="KeelConfigurationException"/>. A token that is refused (401, 403) is not retried.
/// </para>
/// <para>
/// Afterwards one loop per selection watches for changes from the revision it read (see <see cref="KeelRefreshOptions"/>)
/// and applies each revision whole. The data is rebuilt and swapped in one piece, and the reload token fires only when the
/// flattened data really changed: a batch-set is one reload, a write that leaves the value as it was is none. A failure
/// keeps the last good data; a key deleted in Keel disappears.
/// </para>
/// </remarks>
public sealed class KeelConfigurationProvider : ConfigurationProvider, IKeelConfigurationRefresher, IDisposable
{
    readonly KeelConfigurationOptions _options;
    readonly bool _optional;
    readonly KeelApi _api;
    readonly SelectionState[] _selections;
    readonly LastKnownGoodFile? _cache;
    readonly BackgroundLoop _loop = new();
    readonly Lock _publishing = new();
    readonly string _name;
    ILogger _logger;
    KeelDataSource _source;
    KeelTransport _transport;
    DateTimeOffset? _lastSuccess;
    long _lastSuccessTimestamp;
    Exception? _lastError;
    string? _collision;
    bool _loaded;
    bool _disposed;

    internal KeelConfigurationProvider(KeelConfigurationOptions options, bool optional)
    {
        _options = options;
        _optional = optional;
        _logger = options.LoggerFactory?.CreateLogger<KeelConfigurationProvider>() ?? NullLogger<KeelConfigurationProvider>.Instance;
        _api = new KeelApi(options.Endpoint!, options.TokenProvider!, options.HandlerFactory?.Invoke());
        _selections = [.. options.Selections.Select(s => new SelectionState(this, s, _api))];
        _name = string.Join(",", options.Selections);
        if (options.CacheDirectory is { } directory)
        {
            var identity = options.Endpoint!.AbsoluteUri + "\n" + string.Join("\n", options.Selections);
            _cache = new LastKnownGoodFile(directory, "config", identity, options.Time, () => _logger);
        }

        ClientMetrics.Track(this, () => _lastSuccessTimestamp == 0
            ? null
            : new Measurement<double>(options.Time.GetElapsedTime(Interlocked.Read(ref _lastSuccessTimestamp)).TotalSeconds, new KeyValuePair<string, object?>("kind", "config"), new KeyValuePair<string, object?>("selection", _name)));
    }

    /// <inheritdoc/>
    public event EventHandler<KeelChangedEventArgs>? Changed;

    /// <inheritdoc/>
    public KeelRefreshStatus Status => new(_source, _transport, _selections.Min(s => s.Revision), _lastSuccess, _lastError);

    internal bool SecretsRequired => _options.SecretsRequired;

    internal ILogger Logger => _logger;

    internal bool HasLoggerFactory => _options.LoggerFactory is not null;

    /// <summary>The path of the last-known-good file, when there is one.</summary>
    internal string? CachePath => _cache?.Path;

    /// <summary>Reads every selection the first time; later calls (<c>IConfigurationRoot.Reload</c>) leave the live data as it is.</summary>
    /// <exception cref="KeelConfigurationException">Keel could not be read within the startup timeout, there is no usable file cache, and the source is not optional.</exception>
    public override void Load()
    {
        if (_loaded)
        {
            return;
        }

        _loaded = true;

        // IConfigurationProvider.Load is synchronous; the one wait of the provider's life happens here, bounded by the
        // startup timeout, on the thread pool so that no synchronization context can deadlock it.
        try
        {
#pragma warning disable VSTHRD002 // The framework's contract is synchronous.
            Task.Run(StartAsync).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        }
        catch (KeelConfigurationException)
        {
            // The configuration is never built, so nothing else would dispose of the provider.
            Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            foreach (var selection in _selections)
            {
                var revision = await selection.ReloadAsync(conditional: true, cancellationToken).ConfigureAwait(false);
                selection.Succeeded(_transport, revision);
            }
        }
        catch (Exception e) when (e is HttpRequestException or KeelHttpException or IOException or JsonException or InvalidDataException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Failed(e);
            throw new KeelConfigurationException("Keel configuration could not be refreshed: " + e.Message, e) { StatusCode = (int?)(e as KeelHttpException)?.Status };
        }
    }

    /// <inheritdoc/>
    public async Task<bool> TryRefreshAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (KeelConfigurationException e)
        {
            Log.RefreshFailed(_logger, e);
            return false;
        }
    }

    /// <summary>Stops the refresh loop and writes the file cache if a write is pending.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _loop.Stop();

        _cache?.Dispose();
        foreach (var selection in _selections)
        {
            selection.Dispose();
        }

        _api.Dispose();
        _loop.Dispose();
        ClientMetrics.Forget(this);
    }

    /// <summary>Logs through <paramref name="loggerFactory"/> from now on, unless the options named one.</summary>
    internal void UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        if (!HasLoggerFactory)
        {
            _logger = loggerFactory.CreateLogger<KeelConfigurationProvider>();
            foreach (var selection in _selections)
            {
                selection.Watcher?.Logger = _logger;
            }
        }
    }

    internal ConfigEntry Entry(KeelSelection selection, ConfigItem item)
    {
        var key = item.ConfigKey;
        var trim = _options.TrimmedPrefixes.Where(p => key.StartsWith(p, StringComparison.Ordinal) && key.Length > p.Length).MaxBy(p => p.Length);
        var path = KeyMapping.ToPath(trim is null ? key : key[trim.Length..]);
        var entries = KeyMapping.Flatten(path, item.ConfigValue!, item.ValueType);
        if (entries is null)
        {
            Log.ValueNotFlattened(_logger, selection.ToString(), key, item.ValueType, KeyMapping.MaxEntriesPerValue);
        }

        return new ConfigEntry(item, entries ?? []);
    }

    /// <summary>Rebuilds the data from every selection and, when it differs from the current data, swaps it in and signals.</summary>
    internal void Publish(long revision)
    {
        KeelChangedEventArgs? changed;
        lock (_publishing)
        {
            var data = Build();
            changed = KeelChangedEventArgs.Between(Data, data, static (a, b) => string.Equals(a, b, StringComparison.Ordinal), Status.Revision);
            if (changed is null)
            {
                return;
            }

            Data = data;
        }

        ClientMetrics.Reloads.Add(1, new KeyValuePair<string, object?>("kind", "config"));
        Log.Reloaded(_logger, revision, changed.Added.Count, changed.Changed.Count, changed.Removed.Count);
        _cache?.Schedule(CachePayload);
        OnReload();
        KeelChangedEventArgs.Raise(Changed, this, changed, _logger);
    }

    internal void Succeeded(KeelTransport transport)
    {
        if (_selections.All(s => s.Loaded))
        {
            _source = KeelDataSource.Server;
        }

        _transport = transport;
        _lastSuccess = _options.Time.GetUtcNow();
        Interlocked.Exchange(ref _lastSuccessTimestamp, _options.Time.GetTimestamp());
        _lastError = null;
    }

    internal void Failed(Exception error) => _lastError = error;

    internal void Switched(KeelTransport transport) => _transport = transport;

    async Task StartAsync()
    {
        var started = _options.Time.GetTimestamp();
        var error = await InitialLoad.RunAsync(
            async cancellationToken =>
            {
                foreach (var selection in _selections.Where(s => !s.Loaded))
                {
                    await selection.ReloadAsync(conditional: false, cancellationToken).ConfigureAwait(false);
                }
            },
            _options.Startup,
            _options.Refresh,
            _options.Time,
            Failed).ConfigureAwait(false);
        if (error is null)
        {
            Succeeded(KeelTransport.None);
            Publish(Status.Revision);
            StartBackground();
            return;
        }

        Failed(error);
        if (ReadCache() is { } revision)
        {
            _source = KeelDataSource.Cache;
            Log.ServingCache(_logger, "configuration", _cache!.Path, revision, error);
            Publish(revision);
            StartBackground();
            return;
        }

        if (_optional)
        {
            Log.StartingEmpty(_logger, "configuration", error);
            StartBackground();
            return;
        }

        // A process that exits on this and is restarted at once would hammer Keel; the failure waits out the minimum.
        var wait = _options.Startup.MinDelayBeforeFailure - _options.Time.GetElapsedTime(started);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _options.Time).ConfigureAwait(false);
        }

        throw new KeelConfigurationException(
            $"Keel configuration {_name} could not be loaded from {_options.Endpoint}: {error?.Message}", error)
        {
            StatusCode = (int?)(error as KeelHttpException)?.Status,
        };
    }

    void StartBackground()
    {
        foreach (var selection in _selections)
        {
            selection.Watcher = new ChangeWatcher(
                _api,
                new WatchQuery(selection.Selection.ServiceName, selection.Selection.Environment, selection.Selection.KeyPrefix, Flags: false),
                selection,
                _options.Refresh,
                _options.Time,
                "config")
            { Logger = _logger };
        }

        _loop.Start(stopping => Task.WhenAll(_selections.Select(s => s.Watcher!.RunAsync(s.Loaded ? s.Revision : null, stopping))));
    }

    long? ReadCache()
    {
        if (_cache?.Read(KeelWireContext.Default.CachedConfiguration) is not { } cached)
        {
            return null;
        }

        if (cached.Selections.Count != _selections.Length
            || !cached.Selections.Zip(_selections).All(p => p.First.ServiceName == p.Second.Selection.ServiceName
                && p.First.Environment == p.Second.Selection.Environment && p.First.KeyPrefix == p.Second.Selection.KeyPrefix))
        {
            Log.CacheIgnored(_logger, _cache.Path, "it does not hold this provider's selections");
            return null;
        }

        foreach (var (selection, state) in cached.Selections.Zip(_selections))
        {
            state.Restore(selection);
        }

        return _selections.Min(s => s.Revision);
    }

    JsonElement CachePayload() => JsonSerializer.SerializeToElement(
        new CachedConfiguration([.. _selections.Select(s => new CachedSelection(
            s.Selection.ServiceName,
            s.Selection.Environment,
            s.Selection.KeyPrefix,
            s.Revision,
            s.ETag?.ToString(),
            [.. s.Entries.Values.Where(e => !e.IsSecret).Select(e => new CachedConfig(e.Item.ConfigKey, e.Item.ConfigValue!, e.Item.ValueType, e.Item.Version))]))]),
        KeelWireContext.Default.CachedConfiguration);

    Dictionary<string, string?> Build()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var collisions = 0;
        string? first = null;
        var own = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var selection in _selections)
        {
            own.Clear();
            foreach (var key in selection.Entries.Keys.Order(StringComparer.Ordinal))
            {
                foreach (var (path, value) in selection.Entries[key].Entries)
                {
                    if (!own.TryAdd(path, value))
                    {
                        collisions++;
                        first ??= path;
                    }
                }
            }

            foreach (var (path, value) in own)
            {
                data[path] = value;
            }
        }

        if (first is not null && first != _collision)
        {
            Log.CaseCollisions(_logger, collisions, first);
        }

        _collision = first;
        return data;
    }
}
