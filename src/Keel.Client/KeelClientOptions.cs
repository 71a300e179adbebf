// Copyright (c) Keel contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Keel.Client;

/// <summary>
/// What a Keel configuration provider and a Keel flag client share: the server and token, how the data is kept current,
/// the first load, the file cache, logging, the HTTP handler and the clock.
/// </summary>
/// <typeparam name="TOptions">The options class itself, so that calls chain.</typeparam>
/// <remarks>Every method returns the same options. <see cref="Connect(Uri, string)"/> is required; anything here else has a default.</remarks>
public abstract class KeelClientOptions<TOptions>
    where TOptions : KeelClientOptions<TOptions>
{
    private protected KeelClientOptions()
    {
    }

    internal Uri? Endpoint { get; private set; }

    internal Func<CancellationToken, ValueTask<string>>? TokenProvider { get; private set; }

    internal KeelRefreshOptions Refresh { get; } = new();

    internal KeelStartupOptions Startup { get; } = new();

    internal string? CacheDirectory { get; private set; }

    internal ILoggerFactory? LoggerFactory { get; private set; }

    internal TimeProvider Time { get; private set; } = TimeProvider.System;

    internal Func<HttpMessageHandler>? HandlerFactory { get; private set; }

    TOptions Self => (TOptions)this;

    /// <summary>Reads from the Keel server at <paramref name="endpoint"/> with an API token that has <c>read</c> on what is selected.</summary>
    /// <param name="endpoint">The server's base address, such as <c>http://keel.internal:8080/</c>.</param>
    /// <param name="token">The API token.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The address is not absolute http(s), or the token is empty.</exception>
    public TOptions Connect(Uri endpoint, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return Connect(endpoint, _ => ValueTask.FromResult(token));
    }

    /// <summary>
    /// Reads from the Keel server at <paramref name="endpoint"/>, asking <paramref name="tokenProvider"/> for the API token
    /// before every request, so that a rotated token is picked up without a restart.
    /// </summary>
    /// <param name="endpoint">The server's base address, such as <c>http://keel.internal:8080/</c>.</param>
    /// <param name="tokenProvider">Returns the API token; it should cache it, as it is called for every request.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The address is not absolute http(s).</exception>
    public TOptions Connect(Uri endpoint, Func<CancellationToken, ValueTask<string>> tokenProvider)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(tokenProvider);
        if (!endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The Keel endpoint '{endpoint}' is not an absolute http or https address.", nameof(endpoint));
        }

        Endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        TokenProvider = tokenProvider;
        return Self;
    }

    /// <summary>Sets how the data is kept current; see <see cref="KeelRefreshOptions"/>.</summary>
    /// <param name="configure">Changes the refresh options.</param>
    /// <returns>These options.</returns>
    public TOptions ConfigureRefresh(Action<KeelRefreshOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Refresh);
        return Self;
    }

    /// <summary>Sets how the first load behaves when Keel cannot be reached; see <see cref="KeelStartupOptions"/>.</summary>
    /// <param name="configure">Changes the startup options.</param>
    /// <returns>These options.</returns>
    public TOptions ConfigureStartup(Action<KeelStartupOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Startup);
        return Self;
    }

    /// <summary>
    /// Keeps a last-known-good copy of the data in <paramref name="directory"/>, used when the first load cannot reach Keel.
    /// The file is written atomically, readable by the process's user only, and never holds an encrypted value.
    /// </summary>
    /// <param name="directory">The folder; created (owner-only) when missing.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">The folder is empty.</exception>
    public TOptions UseFileCache(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        CacheDirectory = Path.GetFullPath(directory);
        return Self;
    }

    /// <summary>
    /// Logs through <paramref name="loggerFactory"/>. Without it, logs go to the application's logger factory once the host
    /// hands it over (<c>services.AddKeel()</c>, <c>services.AddKeelFlags(...)</c>), and nowhere before.
    /// </summary>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <returns>These options.</returns>
    public TOptions UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        LoggerFactory = loggerFactory;
        return Self;
    }

    /// <summary>Sends the requests through the handler <paramref name="handlerFactory"/> makes (a proxy, client certificates).</summary>
    /// <param name="handlerFactory">Makes the handler; called once, and the handler is disposed of with the provider or client.</param>
    /// <returns>These options.</returns>
    public TOptions ConfigureHttpHandler(Func<HttpMessageHandler> handlerFactory)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        HandlerFactory = handlerFactory;
        return Self;
    }

    /// <summary>Reads time (backoff delays, intervals, timestamps in <see cref="KeelRefreshStatus"/>) from <paramref name="timeProvider"/>.</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>These options.</returns>
    public TOptions UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        Time = timeProvider;
        return Self;
    }

    internal virtual void Validate()
    {
        if (Endpoint is null || TokenProvider is null)
        {
            throw new ArgumentException("Keel's address and token are missing: call Connect.");
        }

        Refresh.Validate();
        Startup.Validate();
    }
}
