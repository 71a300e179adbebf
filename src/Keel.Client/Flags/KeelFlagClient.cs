// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Keel.Client.Caching;
using Keel.Client.Configuration;
using Keel.Client.Diagnostics;
using Keel.Client.Http;
using Keel.Client.Watching;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Client.Flags;

/// <summary>
/// The feature flags of one service and environment, read from Keel, kept current in the background (a <c>kind=flag</c>
/// watch, with the same fallbacks as configuration), and evaluated in-process with the engine the server evaluates OFREP
/// requests with (<see cref="FlagEvaluator"/>), so that both give the same result for the same definition and context.
/// Evaluations use the flags last read and never wait for the network.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="StartAsync"/> reads the flags, retrying transient failures for <see cref="KeelStartupOptions.Timeout"/>, then
/// falls back to the file cache, else starts empty (every evaluation answers <see cref="FlagErrorCodes.FlagNotFound"/>, so
/// the caller's defaults apply) while it keeps trying. <c>services.AddKeelFlags(...)</c> registers the client and starts it
/// as the host starts.
/// </para>
/// <para>The token needs <c>read</c> on the service and environment.</para>
/// </remarks>
public sealed class KeelFlagClient : IDisposable
{
    readonly KeelFlagOptions _options;
    readonly KeelApi _api;
    readonly FlagSetState _set;
    readonly LastKnownGoodFile? _cache;
    readonly BackgroundLoop _loop = new();
    readonly Lock _publishing = new();
    readonly string _name;
    readonly SemaphoreSlim _starting = new(1, 1);
    readonly ILogger _logger;
    Dictionary<string, FlagDefinition> _published = new Dictionary<string, FlagDefinition>(StringComparer.Ordinal);
    KeelDataSource _source;
    KeelTransport _transport;
    DateTimeOffset? _lastSuccess;
    long _lastSuccessTimestamp;
    Exception? _lastError;
    bool _started;
    bool _disposed;

    /// <summary>A client of the flags <paramref name="options"/> select; empty until <see cref="StartAsync"/>.</summary>
    /// <param name="options">The server, token and flags, made with <see cref="KeelFlagOptions"/>'s methods.</param>
    /// <exception cref="ArgumentException">The options are incomplete or invalid.</exception>
    public KeelFlagClient(KeelFlagOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger<KeelFlagClient>() ?? NullLogger<KeelFlagClient>.Instance;
        _api = new KeelApi(options.Endpoint!, options.TokenProvider!, options.HandlerFactory?.Invoke());
        _set = new FlagSetState(this, options.Selection!, _api, options.Limits);
        _name = options.Selection!.ToString();
        if (options.CacheDirectory is { } directory)
        {
            _cache = new LastKnownGoodFile(directory, "flag", options.Endpoint!.AbsoluteUri + "\n" + _name, options.Time, () => _logger);
        }

        ClientMetrics.Track(this, () => _lastSuccessTimestamp == 0
            ? null
            : new Measurement<double>(options.Time.GetElapsedTime(Interlocked.Read(ref _lastSuccessTimestamp)).TotalSeconds, new KeyValuePair<string, object?>("kind", "flag"), new KeyValuePair<string, object?>("selection", _name)));
    }

    /// <summary>
    /// Raised after the flags changed, with the keys of the flags added, changed (any part of the definition) and removed,
    /// never for a read that leaves them as they were; on a background thread.
    /// </summary>
    public event EventHandler<KeelChangedEventArgs>? Changed;

    /// <summary>The keys of the flags in use.</summary>
    public IReadOnlyCollection<string> Keys => _published.Keys;

    /// <summary>Where the flags come from, how they are kept current, and how the last attempts went.</summary>
    public KeelRefreshStatus Status => new(_source, _transport, _set.Revision, _lastSuccess, _lastError);

    /// <summary>The path of the last-known-good file, when there is one.</summary>
    internal string? CachePath => _cache?.Path;

    internal ILogger Logger => _logger;

    /// <summary>
    /// Reads the flags and starts keeping them current; later calls return at once. Within
    /// <see cref="KeelStartupOptions.Timeout"/> transient failures are retried; then the client serves its file cache, or
    /// starts empty, and keeps trying in the background. A refused token (401, 403) is not retried.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait; the client is then not started.</param>
    /// <returns>A task that completes when the client serves flags from Keel, from its file cache, or none.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
            {
                return;
            }

            // Disposing of the client ends a start that is still trying.
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _loop.Stopping);
            var error = await InitialLoad.RunAsync(
                ct => _set.ReloadAsync(conditional: false, ct), _options.Startup, _options.Refresh, _options.Time, Failed, stopping.Token).ConfigureAwait(false);
            if (error is null)
            {
                Succeeded(KeelTransport.None);
            }
            else
            {
                Failed(error);
                if (ReadCache() is { } revision)
                {
                    _source = KeelDataSource.Cache;
                    Log.ServingCache(_logger, "flags " + _name, _cache!.Path, revision, error);
                    Publish(revision);
                }
                else
                {
                    Log.StartingEmpty(_logger, "flags " + _name, error);
                }
            }

            // A client disposed of while it loaded starts no loop; its caller learns so.
            ObjectDisposedException.ThrowIf(_disposed, this);
            _set.Watcher = new ChangeWatcher(_api, _set.Query, _set, _options.Refresh, _options.Time, "flag") { Logger = _logger };
            var from = _set.Loaded ? _set.Revision : (long?)null;
            _loop.Start(stopping => _set.Watcher.RunAsync(from, stopping));

            _started = true;
        }
        finally
        {
            _starting.Release();
        }
    }

    /// <summary>Reads the flags now (a conditional read: unchanged flags cost a <c>304</c>) and applies what changed.</summary>
    /// <param name="cancellationToken">Ends the wait; the flags stay as they were.</param>
    /// <returns>Whether the flags changed.</returns>
    /// <exception cref="KeelConfigurationException">
    /// Keel could not be reached, refused the request, or answered with definitions this client cannot read; the flags in
    /// use stay as they were.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var before = _published;
        try
        {
            var revision = await _set.ReloadAsync(conditional: true, cancellationToken).ConfigureAwait(false);
            _set.Succeeded(_transport, revision);
        }
        catch (Exception e) when (e is HttpRequestException or KeelHttpException or IOException or JsonException or InvalidDataException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Failed(e);
            throw new KeelConfigurationException($"Keel flags {_name} could not be refreshed: " + e.Message, e) { StatusCode = (int?)(e as KeelHttpException)?.Status };
        }

        return !ReferenceEquals(before, _published);
    }

    /// <summary>Evaluates a flag for the empty context.</summary>
    /// <param name="key">The flag's key.</param>
    /// <returns>The result; <see cref="FlagErrorCodes.FlagNotFound"/> for a key the client does not hold.</returns>
    public FlagResult Evaluate(string key) => Evaluate(key, (IReadOnlyDictionary<string, object?>?)null);

    /// <summary>Evaluates a flag for a context (such as <c>{"targetingKey": "user-1", "email": "..."}</c>).</summary>
    /// <param name="key">The flag's key.</param>
    /// <param name="context">The evaluation context: strings, numbers, booleans, and lists and dictionaries of them.</param>
    /// <returns>The result; <see cref="FlagErrorCodes.FlagNotFound"/> for a key the client does not hold.</returns>
    public FlagResult Evaluate(string key, IReadOnlyDictionary<string, object?>? context)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _published.TryGetValue(key, out var flag) ? Evaluate(flag, context) : FlagResult.NotFound(key);
    }

    /// <summary>
    /// Evaluates a definition read with <see cref="TryGetFlag"/>, with this client's clock and limits: whoever lists a
    /// flag's variants and then picks one reads both from the same definition, even while a change arrives.
    /// </summary>
    /// <param name="flag">The definition.</param>
    /// <param name="context">The evaluation context: strings, numbers, booleans, and lists and dictionaries of them.</param>
    /// <returns>The result.</returns>
    public FlagResult Evaluate(FlagDefinition flag, IReadOnlyDictionary<string, object?>? context)
    {
        ArgumentNullException.ThrowIfNull(flag);
        var key = flag.Key;
        LogicObject logic;
        try
        {
            logic = ToLogic(context);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return new FlagResult
            {
                Key = key,
                Reason = FlagReasons.Error,
                ErrorCode = FlagErrorCodes.InvalidContext,
                ErrorDetails = "The context holds a value that is not a string, number, boolean, list or dictionary of them: " + e.Message,
            };
        }

        return FlagEvaluator.Evaluate(flag, logic, _options.Time.GetUtcNow(), _options.Limits);
    }

    /// <summary>Reads the definition of a flag the client holds.</summary>
    /// <param name="key">The flag's key.</param>
    /// <param name="flag">The definition, as last read.</param>
    /// <returns>Whether the client holds a flag with that key.</returns>
    public bool TryGetFlag(string key, [NotNullWhen(true)] out FlagDefinition? flag)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _published.TryGetValue(key, out flag);
    }

    /// <summary>Evaluates a flag for a context given as JSON (an object).</summary>
    /// <param name="key">The flag's key.</param>
    /// <param name="context">The evaluation context, a JSON object.</param>
    /// <returns>The result; <see cref="FlagErrorCodes.FlagNotFound"/> for a key the client does not hold.</returns>
    public FlagResult Evaluate(string key, JsonElement context)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (context.ValueKind != JsonValueKind.Object)
        {
            return new FlagResult { Key = key, Reason = FlagReasons.Error, ErrorCode = FlagErrorCodes.InvalidContext, ErrorDetails = "The context is a JSON object." };
        }

        return _published.TryGetValue(key, out var flag)
            ? FlagEvaluator.Evaluate(flag, LogicObject.FromJson(context), _options.Time.GetUtcNow(), _options.Limits)
            : FlagResult.NotFound(key);
    }

    /// <summary>Stops keeping the flags current and writes the file cache if a write is pending.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _loop.Stop();

        _cache?.Dispose();
        _set.Dispose();
        _api.Dispose();
        ClientMetrics.Forget(this);

        // A StartAsync still running ends on the cancellation and then releases _starting, so that it and the loop stay for the
        // collector; neither holds a wait handle or a timer.
        if (_starting.Wait(0))
        {
            _starting.Dispose();
            _loop.Dispose();
        }
    }

    /// <summary>Swaps in the flags read when they differ from those in use, and signals.</summary>
    internal void Publish(long revision)
    {
        KeelChangedEventArgs? changed;
        lock (_publishing)
        {
            var flags = _set.Flags;
            changed = KeelChangedEventArgs.Between(_published, flags, static (a, b) => a.Json == b.Json, revision);
            if (changed is null)
            {
                return;
            }

            _published = flags;
        }

        ClientMetrics.Reloads.Add(1, new KeyValuePair<string, object?>("kind", "flag"));
        Log.FlagsReloaded(_logger, _name, revision, changed.Added.Count, changed.Changed.Count, changed.Removed.Count);
        if (_set.File is { } file)
        {
            var cached = new CachedFlags(_options.Selection!.ServiceName, _options.Selection.Environment, revision, _set.ETag?.ToString(), file);
            _cache?.Schedule(() => JsonSerializer.SerializeToElement(cached, KeelWireContext.Default.CachedFlags));
        }

        KeelChangedEventArgs.Raise(Changed, this, changed, _logger);
    }

    internal void Succeeded(KeelTransport transport)
    {
        if (_set.Loaded)
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

    long? ReadCache()
    {
        if (_cache?.Read(KeelWireContext.Default.CachedFlags) is not { } cached)
        {
            return null;
        }

        if (!_set.Restore(cached))
        {
            Log.CacheIgnored(_logger, _cache.Path, "it does not hold flags this client can read");
            return null;
        }

        return cached.Revision;
    }

    static LogicObject ToLogic(IReadOnlyDictionary<string, object?>? context)
    {
        if (context is null || context.Count == 0)
        {
            return LogicObject.From([]);
        }

        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(context, ContextJson.Default.IReadOnlyDictionaryStringObject));
        return LogicObject.FromJson(document.RootElement);
    }
}
