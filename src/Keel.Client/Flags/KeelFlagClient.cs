// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Keel.Flags;
using Keel.Flags.JsonLogic;

namespace Keel.Client.Flags;

/// <summary>
/// The feature flags of one service and environment, fetched from Keel and evaluated in-process with the engine the server
/// evaluates OFREP requests with (<see cref="FlagEvaluator"/>), so that both give the same result for the same definition and
/// context. <see cref="RefreshAsync"/> fetches the definitions again, and only when they changed (by ETag); evaluations in the
/// meantime use the last ones fetched and never wait for the network.
/// </summary>
/// <remarks>The <see cref="HttpClient"/> carries Keel's address and an API token with <c>read</c> on the service and environment.</remarks>
public sealed class KeelFlagClient : IDisposable
{
    readonly HttpClient _http;
    readonly string _path;
    readonly TimeProvider _time;
    readonly LogicLimits _limits;
    readonly SemaphoreSlim _refreshing = new(1, 1);
    Snapshot _snapshot = new(new Dictionary<string, FlagDefinition>(StringComparer.Ordinal), null);

    /// <summary>A client of the flags of <paramref name="serviceName"/> in <paramref name="environment"/>, empty until the first <see cref="RefreshAsync"/>.</summary>
    /// <param name="http">Carries Keel's address (ending in <c>/</c>) and an API token with <c>read</c>.</param>
    /// <param name="serviceName">The service.</param>
    /// <param name="environment">The environment.</param>
    /// <param name="time">The clock <c>$flagd.timestamp</c> reads; the system's when <see langword="null"/>.</param>
    /// <param name="limits">
    /// The work one evaluation of a targeting rule may do, as the server's <c>Keel:Flags</c> settings bound it there;
    /// <see cref="LogicLimits.Default"/> when <see langword="null"/>. An evaluation that needs more is an error, not a hang.
    /// </param>
    public KeelFlagClient(HttpClient http, string serviceName, string environment, TimeProvider? time = null, LogicLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(environment);
        _http = http;
        _path = $"api/v1/flags/{Uri.EscapeDataString(serviceName)}/{Uri.EscapeDataString(environment)}";
        _time = time ?? TimeProvider.System;
        _limits = limits ?? LogicLimits.Default;
    }

    /// <summary>The keys of the flags last fetched.</summary>
    public IReadOnlyCollection<string> Keys => _snapshot.Flags.Keys;

    /// <summary>Fetches the flags, unless they are unchanged since the last fetch.</summary>
    /// <returns>Whether the flags changed.</returns>
    /// <exception cref="HttpRequestException">Keel refused or could not be reached; the last flags fetched stay in use.</exception>
    /// <exception cref="FlagDefinitionException">Keel answered with definitions this client cannot read; the last flags fetched stay in use.</exception>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        // One refresh at a time, so that an older answer never replaces a newer one.
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await FetchAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    async Task<bool> FetchAsync(CancellationToken cancellationToken)
    {
        var current = _snapshot;
        using var request = new HttpRequestMessage(HttpMethod.Get, _path);
        if (current.ETag is { } etag)
        {
            request.Headers.IfNoneMatch.Add(etag);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            return false;
        }

        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var document = await JsonDocument.ParseAsync(body, new JsonDocumentOptions { MaxDepth = 256 }, cancellationToken).ConfigureAwait(false);
            var flags = FlagDefinitions.ParseFile(document.RootElement, limits: _limits).ToDictionary(f => f.Key, StringComparer.Ordinal);
            _snapshot = new Snapshot(flags, response.Headers.ETag);
        }

        return true;
    }

    /// <summary>Evaluates a flag for a context (such as <c>{"targetingKey": "user-1", "email": "..."}</c>).</summary>
    /// <returns>The result; <see cref="FlagErrorCodes.FlagNotFound"/> for a key the last fetch did not have.</returns>
    public FlagResult Evaluate(string key, IReadOnlyDictionary<string, object?>? context = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_snapshot.Flags.TryGetValue(key, out var flag))
        {
            return FlagResult.NotFound(key);
        }

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

        return FlagEvaluator.Evaluate(flag, logic, _time.GetUtcNow(), _limits);
    }

    /// <summary>Evaluates a flag for a context given as JSON (an object).</summary>
    public FlagResult Evaluate(string key, JsonElement context)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (context.ValueKind != JsonValueKind.Object)
        {
            return new FlagResult { Key = key, Reason = FlagReasons.Error, ErrorCode = FlagErrorCodes.InvalidContext, ErrorDetails = "The context is a JSON object." };
        }

        return _snapshot.Flags.TryGetValue(key, out var flag)
            ? FlagEvaluator.Evaluate(flag, LogicObject.FromJson(context), _time.GetUtcNow(), _limits)
            : FlagResult.NotFound(key);
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

    /// <summary>Releases the refresh lock; the <see cref="HttpClient"/> stays the caller's.</summary>
    public void Dispose() => _refreshing.Dispose();

    sealed record Snapshot(Dictionary<string, FlagDefinition> Flags, EntityTagHeaderValue? ETag);
}
